#include "ctorch.h"
int ctorch_placeholder(void) { return 0; }
