/*
 * version_baseline.c - the baseline for the `sitrep --version` figure of
 * `make bench`: a minimal C program linking only what every sitrep command
 * needs (ncursesw, sqlite3, libuv), printing their versions and exiting.
 */
#include <curses.h>
#include <sqlite3.h>
#include <stdio.h>
#include <uv.h>

int main(void)
{
    printf("baseline (%s, SQLite %s, libuv %s)\n", curses_version(), sqlite3_libversion(),
           uv_version_string());
    return 0;
}
