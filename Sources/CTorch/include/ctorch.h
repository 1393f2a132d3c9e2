#ifndef CTORCH_H
#define CTORCH_H
int ctorch_placeholder(void);
#endif
