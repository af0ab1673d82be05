/*
 * mapsize.c - what a short-lived command maps, for `make bench`: runs
 * COMMAND with its stdout a pipe filled beforehand, so that its first
 * write blocks with everything it loaded still mapped, then prints the
 * sum of its mappings (kB, /proc/PID/maps) and how many shared objects
 * they hold, drains the pipe and waits for it.
 *
 *   mapsize COMMAND [ARG...]      prints "KB OBJECTS"
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int fd[2];
    if (argc < 2 || pipe(fd) != 0)
        return 2;
    static char junk[4096];
    fcntl(fd[1], F_SETFL, O_NONBLOCK);
    while (write(fd[1], junk, sizeof junk) > 0 || write(fd[1], junk, 1) == 1)
        ;
    fcntl(fd[1], F_SETFL, 0);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fd[1], 1);
        close(fd[0]);
        execvp(argv[1], argv + 1);
        _exit(127);
    }
    close(fd[1]);
    char path[64], line[4096];
    snprintf(path, sizeof path, "/proc/%d/syscall", (int)pid);
    for (int tries = 0; tries < 100000; tries++) { /* at most about 100 s */
        FILE *f = fopen(path, "r");
        long nr = -1;
        if (f && fscanf(f, "%ld", &nr) != 1)
            nr = -1;
        if (f)
            fclose(f);
        if (nr == SYS_write)
            break;
        usleep(1000);
    }
    snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
    FILE *m = fopen(path, "r");
    unsigned long long kb = 0;
    size_t objects = 0;
    char last[4096] = "";
    while (m && fgets(line, sizeof line, m)) {
        unsigned long long lo, hi;
        char file[4096] = "";
        if (sscanf(line, "%llx-%llx %*s %*s %*s %*s %4095s", &lo, &hi, file) < 2)
            continue;
        kb += (hi - lo) / 1024;
        if (strstr(file, ".so") && strcmp(file, last) != 0) {
            objects++;
            snprintf(last, sizeof last, "%s", file);
        }
    }
    if (m)
        fclose(m);
    while (read(fd[0], line, sizeof line) > 0)
        ;
    waitpid(pid, NULL, 0);
    printf("%llu %zu\n", kb, objects);
    return 0;
}
