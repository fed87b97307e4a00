#include "csrtp.h"
