/*
 * tui_baseline.c - the baseline for the screen figures of `make bench`: a
 * minimal ncurses program that draws N boxed panels, each with a number that
 * changes every second, redrawn the way a careful program does it (only the
 * changed numbers, wnoutrefresh + one doupdate per second). Runs until
 * killed.
 *
 *   tui_baseline N
 */
#include <curses.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 12;
    if (n < 1 || n > 64)
        n = 12;
    setlocale(LC_ALL, "");
    initscr();
    noecho();
    curs_set(0);
    int cols = 3, rows = (n + cols - 1) / cols;
    int h = (LINES - 2) / rows, w = COLS / cols;
    WINDOW *win[64];
    for (int i = 0; i < n; i++) {
        win[i] = newwin(h, w, 1 + (i / cols) * h, (i % cols) * w);
        box(win[i], 0, 0);
        mvwprintw(win[i], 0, 2, " panel %d ", i + 1);
        wnoutrefresh(win[i]);
    }
    WINDOW *top = newwin(1, COLS, 0, 0);
    doupdate();
    unsigned long long tick = 0;
    for (;;) {
        for (int i = 0; i < n; i++) {
            mvwprintw(win[i], 1, 2, "%8llu",
                      (tick * 7919 + (unsigned long long)i * 104729) % 100000);
            wnoutrefresh(win[i]);
        }
        mvwprintw(top, 0, COLS - 10, "%8llu", tick);
        wnoutrefresh(top);
        doupdate();
        tick++;
        struct timespec d = {1, 0};
        nanosleep(&d, NULL);
    }
}
