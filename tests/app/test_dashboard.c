/*
 * Tests of app/dashboard.c that need no terminal: the locale it takes from
 * the environment. Characters (and dates) follow the user's locale; numbers
 * stay C, so that a collecting dashboard in a decimal-comma locale still
 * reads "1.5" from its sources as one and a half.
 */
#include <criterion/criterion.h>
#include <langinfo.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../app/dashboard.h"
#include "../helpers.h"

Test(dashboard, a_decimal_comma_locale_keeps_numbers_c)
{
    char dir[256], cmd[1024];
    th_tempdir(dir, sizeof dir);
    /* a German locale of our own, built from glibc's sources */
    snprintf(cmd, sizeof cmd, "localedef -i de_DE -f UTF-8 '%s/de_DE.UTF-8' 2>/dev/null", dir);
    cr_assert_eq(system(cmd), 0, "localedef failed: %s", cmd);
    setenv("LOCPATH", dir, 1);
    setenv("LC_ALL", "de_DE.UTF-8", 1);
    cr_assert(sr_locale_utf8(), "the German UTF-8 locale was not taken");
    cr_assert_str_eq(nl_langinfo(MON_1), "Januar", "dates follow the user's locale");
    cr_assert_str_eq(nl_langinfo(RADIXCHAR), ".", "numbers must stay C");
    cr_assert_eq(strtod("1.5", NULL), 1.5);
    th_rmtree(dir);
}
