/*
 * exec_int.h - what adapters/exec.c and execchild.c share: the source's
 * state, a run, a child, and the functions one file defines for the other.
 * Private to those two files.
 */
#ifndef SR_EXEC_INT_H
#define SR_EXEC_INT_H

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include "adapter.h"
#include "csvrows.h"
#include "execfmt.h"
#include "jsonrow.h"
#include "map.h"

#define MAX_OUTPUT_DEFAULT (16u << 20)
#define MAX_OUTPUT_LIMIT (1u << 30)
#define ERR_KEEP 4096 /* bytes of stderr kept for the error message */
#define RAW_MAX 4096  /* longest raw text of a reject, "..." included */
#define READ_CHUNK 65536

typedef struct exec_run exec_run;

/* A stdout format: how the bytes of one run become samples. */
typedef struct {
    const char *name;
    int uses_map; /* the mapping keys apply (and metric, entity, value are required) */
    /* Before the command starts; may be NULL. */
    int (*start)(exec_run *r, char *err, size_t errlen);
    /* Reads n more bytes; negative = stop the run (err says why). */
    int (*feed)(exec_run *r, const char *buf, size_t n, char *err, size_t errlen);
    /* The command ended by itself: reads what is still pending. */
    int (*finish)(exec_run *r, char *err, size_t errlen);
    /* After every run; may be NULL. */
    void (*stop)(exec_run *r);
    /* For the line formats: one line (NUL at len, writable); where = "line N". */
    int (*line)(exec_run *r, char *line, size_t len, const char *where, char *err, size_t errlen);
} exec_format;

typedef struct {
    char **argv;   /* the command's words; argv[0] may point to program */
    char *program; /* argv[0] resolved against the config directory, or NULL */
    char *label;   /* argv[0] as written, for messages */
    char *workdir; /* NULL: sitrep's own */
    char **envp;   /* sitrep's environment when the source was opened (one block) */
    const exec_format *fmt;
    size_t max_output; /* bytes of stdout per run */
    char max_text[32]; /* max_output as written, for messages */
    sr_map *map;       /* csv, jsonl */
    char delim;        /* csv */
    const sr_ad_host *host;
    char *tz; /* lines: zone of times without an offset */
} exec_state;

struct exec_run {
    const exec_state *st;
    sr_sink *sink;
    int64_t now_ms;
    long lineno;
    char *line; /* the line being read (line formats) */
    size_t len, cap;
    sr_csvrows *csv;   /* csv */
    const char **vals; /* jsonl: one per map field */
    char *jbuf;        /* jsonl: the text of values that are not strings */
    size_t jcap;
};

/* A run's child: the keeper, and the ends of its pipes and socket. */
typedef struct {
    pid_t pid;    /* the keeper */
    int out, err; /* read ends of stdout and stderr; -1 once at EOF */
    int ctl;      /* our end of the control socket; -1 once closed */
    int exited;   /* 1 once the keeper said the command ended */
    int status;   /* then its wait status */
} child;

/* ---- execchild.c ---- */

/* 1 when path names a directory. */
int exec_is_dir(const char *path);

/* Starts a run of st's command: the keeper forked, its pipes and control
 * socket in c; 0, or -1 with why in err. */
int exec_child_start(const exec_state *st, child *c, char *err, size_t errlen);

/* Reads what the keeper says; 1 once the command has ended. */
int exec_child_heard(child *c);

/*
 * Ends the run: closes the pipes and the control socket, upon which the
 * keeper kills what is left of the command, then waits for the keeper.
 * Returns the command's wait status, or -1 when it was not had.
 */
int exec_child_end(child *c);

#endif
