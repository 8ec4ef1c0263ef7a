/* A temporary folder private to one test program, for the tests that write
 * files: names inside it, counting what is there (to spot leftovers) and
 * clearing it. Include after the feature-test macros of the test. */
#ifndef STRATA_TEST_TMPDIR_H
#define STRATA_TEST_TMPDIR_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char g_dir[256];

/* Create the folder under $TMPDIR (or /tmp) as PREFIX_XXXXXX; 0 on success. */
static inline int tmpdir_make(const char *prefix)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(g_dir, sizeof g_dir, "%s/%s_XXXXXX", tmp && *tmp ? tmp : "/tmp", prefix);
    if (!mkdtemp(g_dir)) {
        perror("mkdtemp");
        return -1;
    }
    return 0;
}

/* "<folder>/<name>", in one of 8 rotating buffers (several may be alive). */
static inline const char *path_of(const char *name)
{
    static char buf[8][1024];
    static int i;
    i = (i + 1) % 8;
    snprintf(buf[i], sizeof buf[i], "%s/%s", g_dir, name);
    return buf[i];
}

/* Entries of the folder (not . and ..) whose name contains `part` ("" for
 * all); -1 if the folder cannot be read. */
static inline int tmpdir_count(const char *part)
{
    DIR *d = opendir(g_dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strstr(e->d_name, part);
    closedir(d);
    return n;
}

/* Remove every entry of the folder (files only). */
static inline void remove_all(void)
{
    DIR *d = opendir(g_dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            remove(path_of(e->d_name));
    closedir(d);
}

#endif
