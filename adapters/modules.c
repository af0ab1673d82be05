/*
 * modules.c - what the binary knows of the adapter types built as shared
 * objects (modules.h): linked into sitrep and into each object.
 */
#include "modules.h"

#include "map.h"
#include "sql.h"

const char sr_pg_description[] =
    "rows of a parameterized query against PostgreSQL (libpq), past a cursor";

const sr_ad_option_spec sr_pg_options[] = {
    {"conninfo", 1,
     "libpq connection string or URI (host, port, dbname, user, sslmode, sslrootcert, ...; "
     "never a password)"},
    {"password_env", 0, "environment variable holding the password"},
    {"password_file", 0, "file whose first line is the password (chmod 600)"},
    SR_SQL_OPTION_SPECS,
    {"statement_timeout", 0,
     "the server stops a statement running longer, a duration (default and at most: the poll's "
     "timeout)"},
    {"connect_timeout", 0, "how long connecting may take, a duration (default 5s)"},
    SR_MAP_OPTION_SPECS,
    {NULL, 0, NULL},
};

const char sr_pg_missing[] =
    "this sitrep was built without libpq (apt-get install libpq-dev, then rebuild)";

const char sr_http_description[] =
    "GET a JSON document over http or https and map the rows of an array in it";

const sr_ad_option_spec sr_http_options[] = {
    {"url", 1,
     "http:// or https:// address of a JSON document; {since} in it becomes the start of the "
     "last successful poll (ISO-8601 UTC), {since_ms} the same in epoch milliseconds"},
    {"items", 0,
     "dotted path to the array of rows (data.incidents; a number indexes an array: data.0.rows); "
     "default: the document is the array"},
    {"token_env", 0, "environment variable holding a bearer token (sent as Authorization: Bearer)"},
    {"token_file", 0,
     "file whose first line is a bearer token; refused unless only its owner can "
     "read it (chmod 600)"},
    {"token_header", 0,
     "send the token bare in this header instead (X-Api-Key); default Authorization: Bearer"},
    {"header", 0,
     "extra request headers, Name: value, several separated by | (never a secret: see token_env)"},
    {"tls_verify", 0,
     "yes (default) or no; no accepts any certificate: anyone on the path can feed you data"},
    {"ca_file", 0, "PEM file of the certificate authorities to trust (default: the system's)"},
    {"max_size", 0, "largest response body accepted, bytes or with k, M, G (default 16M)"},
    {"paging", 0,
     "how a result spread over pages is read: none (default), socrata ($limit and $offset), "
     "arcgis (resultOffset and resultRecordCount while exceededTransferLimit) or link (a next "
     "link: in the body at next, else the Link header's rel=\"next\")"},
    {"page_size", 0, "rows asked for per page with paging = socrata or arcgis (default 1000)"},
    {"max_pages", 0,
     "pages a poll reads at most (default 100); more is an error that keeps the rows read"},
    {"next", 0,
     "with paging = link: dotted path of the next page's url in the body (links.next); missing "
     "or null on the last page"},
    SR_MAP_OPTION_SPECS,
    {NULL, 0, NULL},
};

const char sr_http_missing[] = "this sitrep was built without libcurl (apt-get install "
                               "libcurl4-openssl-dev, then rebuild)";
