/*
 * report.h - the shift report: every panel's value, status and change
 * against the window before, the sources that are late or failing, and the
 * alerts; written as JSON, CSV (`sitrep snapshot`) or Markdown (`sitrep
 * snapshot --format markdown`, and the dashboard's key e).
 */
#ifndef SR_REPORT_H
#define SR_REPORT_H

#include <stdio.h>

#include "../metrics/privacy.h"
#include "../metrics/store.h"
#include "config.h"

typedef enum { SR_REPORT_JSON, SR_REPORT_CSV, SR_REPORT_MARKDOWN } sr_report_format;

/* "json", "csv", "markdown" to a format; SR_EINVAL for another name. */
int sr_report_format_parse(const char *name, sr_report_format *out);

typedef struct sr_report sr_report;

/* Who the report is for: their role's panels and privacy policy, and where
 * views of personal data are audited. All borrowed; NULL members: no
 * limit, no policy, no audit. */
typedef struct {
    const sr_cfg_role *role;   /* only its panels on its pages */
    const sr_privacy *privacy; /* hidden entities and suppressed values (metrics/privacy.h) */
    sr_audit_fn audit;         /* once per panel that shows personal-level values */
    void *audit_ctx;
} sr_report_viewer;

/*
 * Computes the report from st at at_ms for who (NULL: everything, no
 * policy). shift_ms > 0: every panel over the
 * shift [at_ms - shift_ms, at_ms), compared with the shift before; 0: each
 * panel over its own window, compared with the window before. The sources'
 * states are judged at now_ms (they describe the collector as it is). cfg
 * is borrowed and must outlive the report. Caller owns *out; free with
 * sr_report_destroy(). Returns 0 or the store's error, with the failing
 * panel named in err.
 */
int sr_report_build(const sr_config *cfg, sr_store *st, const sr_report_viewer *who, sr_ms at_ms,
                    sr_ms shift_ms, sr_ms now_ms, sr_report **out, char *err, size_t errlen);
void sr_report_destroy(sr_report *r);

/* Writes r to out in format f. Returns 0, or SR_EIO when out fails. */
int sr_report_write(const sr_report *r, sr_report_format f, FILE *out);

/*
 * The Markdown report of the last cfg->shift_ms before at_ms, written to
 * cfg->reports/handover-YYYYmmdd-HHMM.md (at_ms in the force's zone; the
 * directory is created). The path written goes to path. Returns 0, or an
 * error with the reason in err.
 */
int sr_report_save(const sr_config *cfg, sr_store *st, const sr_report_viewer *who, sr_ms at_ms,
                   char *path, size_t pathlen, char *err, size_t errlen);

#endif
