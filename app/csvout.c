/*
 * csvout.c - the one CSV writer. Fields are separated by commas, rows end
 * with LF; a field is quoted by libcsv (csv_fwrite: the whole field between
 * quotes, each quote doubled) exactly when RFC 4180 needs it, so plain
 * fields read as they always have and a field from data (an entity path
 * holding `,"`) cannot add a column. Errors are the stream's: the caller
 * checks ferror() once at the end.
 */
#include "csvout.h"

#include <csv.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../metrics/common.h"
#include "xalloc.h"

void sr_csv_init(sr_csv_out *w, FILE *out)
{
    w->out = out;
    w->first = true;
}

void sr_csv_field(sr_csv_out *w, const char *field)
{
    /* text from data made safe as every output makes it (an escape
     * sequence in an entity name would reach whoever cats the file) */
    char *text = xclean(field ? field : "");
    if (!w->first)
        fputc(',', w->out);
    w->first = false;
    size_t n = strlen(text);
    if (strpbrk(text, ",\"\r\n"))
        csv_fwrite(w->out, text, n);
    else
        fwrite(text, 1, n, w->out);
    free(text);
}

void sr_csv_number(sr_csv_out *w, double v)
{
    char buf[40];
    sr_format_double(v, buf, sizeof buf);
    sr_csv_field(w, buf);
}

void sr_csv_figure(sr_csv_out *w, double v, const char *mask)
{
    if (mask && *mask)
        sr_csv_field(w, mask);
    else if (isinf(v))
        sr_csv_field(w, "overflow");
    else
        sr_csv_number(w, v);
}

void sr_csv_integer(sr_csv_out *w, long long v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", v);
    sr_csv_field(w, buf);
}

void sr_csv_end_row(sr_csv_out *w)
{
    fputc('\n', w->out);
    w->first = true;
}

void sr_csv_header(sr_csv_out *w, const char *const *names)
{
    for (; *names; names++)
        sr_csv_field(w, *names);
    sr_csv_end_row(w);
}
