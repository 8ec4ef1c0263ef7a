#include "strata.h"

int strata_version_number(void)
{
    return STRATA_VERSION_NUMBER;
}

const char *strata_version_string(void)
{
    return STRATA_VERSION_STRING;
}
