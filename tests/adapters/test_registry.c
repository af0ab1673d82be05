/*
 * Tests of adapters/registry.c: built-in adapters are found by type, and a
 * table built for another ABI version is refused with a clear message.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "../../adapters/registry.h"

Test(registry, finds_built_in_adapters)
{
    const sr_adapter *sim = sr_registry_find("sim");
    cr_assert_not_null(sim);
    cr_assert_str_eq(sim->type, "sim");
    cr_assert_eq(sim->abi_version, SR_ADAPTER_ABI);
    cr_assert_null(sr_registry_find("nope"));
    cr_assert_null(sr_registry_find(NULL));
    cr_assert_geq(sr_registry_count(), 1);
    cr_assert_eq(sr_registry_at(0), sim);
    cr_assert_null(sr_registry_at(sr_registry_count()));
    char err[256];
    cr_assert_eq(sr_registry_check_abi(sim, err, sizeof err), 0);
}

static int p_open(const sr_ad_options *o, void **s, char *e, size_t n)
{
    (void)o;
    (void)e;
    (void)n;
    *s = NULL;
    return 0;
}
static int p_poll(void *s, sr_poll_info *i, sr_sink *k, char *e, size_t n)
{
    (void)s;
    (void)i;
    (void)k;
    (void)e;
    (void)n;
    return 0;
}
static void p_close(void *s)
{
    (void)s;
}

Test(registry, refuses_another_abi_version)
{
    sr_adapter future = {
        SR_ADAPTER_ABI + 1, "future", "from a newer sitrep", NULL, p_open, p_poll, p_close, NULL};
    char err[256] = "";
    cr_assert_eq(sr_registry_check_abi(&future, err, sizeof err), -1);
    char want[64];
    snprintf(want, sizeof want, "version %d", SR_ADAPTER_ABI + 1);
    cr_assert(strstr(err, want), "message: %s", err);
    cr_assert(strstr(err, "rebuild"), "message: %s", err);
    sr_adapter incomplete = {SR_ADAPTER_ABI, "half", "", NULL, p_open, NULL, p_close, NULL};
    cr_assert_eq(sr_registry_check_abi(&incomplete, err, sizeof err), -1);
    cr_assert(strstr(err, "incomplete"), "message: %s", err);
    cr_assert_eq(sr_registry_check_abi(NULL, err, sizeof err), -1);
}

Test(registry, loads_every_version_from_the_oldest_it_still_speaks)
{
    char err[256] = "";
    for (uint32_t v = SR_ADAPTER_ABI_MIN; v <= SR_ADAPTER_ABI; v++) {
        sr_adapter a = {v, "old", "built for an older sitrep", NULL, p_open, p_poll, p_close, NULL};
        cr_assert_eq(sr_registry_check_abi(&a, err, sizeof err), 0, "version %u: %s", v, err);
    }
    cr_assert_eq(SR_ADAPTER_ABI_MIN, 1, "plugins built for version 1 must still load");
    sr_adapter zero = {0, "zero", "", NULL, p_open, p_poll, p_close, NULL};
    cr_assert_eq(sr_registry_check_abi(&zero, err, sizeof err), -1);
    cr_assert(strstr(err, "versions 1 to 3"), "message: %s", err);
}
