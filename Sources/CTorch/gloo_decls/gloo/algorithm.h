// See context.h: declarations the c10d Gloo header needs, nothing more.
#pragma once
#include "gloo/context.h"
