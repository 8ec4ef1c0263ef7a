/* Prints the version the header was compiled with and the one the library
 * reports at run time: "header X.Y.Z N runtime X.Y.Z N". */
#include <stdio.h>
#include <strata.h>

int main(void)
{
    printf("header %s %d runtime %s %d\n", STRATA_VERSION_STRING, STRATA_VERSION_NUMBER,
           strata_version_string(), strata_version_number());
    return 0;
}
