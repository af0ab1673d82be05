/*
 * glyphs.c - the characters the screen draws with: UTF-8 line drawing and
 * block elements when the locale is UTF-8, plain ASCII otherwise (LANG=C),
 * so that a terminal that cannot show them never gets them.
 *
 * Every glyph the screen draws is here, with its ASCII form: no other
 * file writes a non-ASCII character of its own (a locale that cannot show
 * it would print '?').
 *
 * Status is never colour alone: the status symbols differ in shape (circle,
 * diamond, cross; o ! X), and none of them is also a change marker (up,
 * down), so "WARN" next to a rise reads as two things, in colour or not.
 */
#include "tui.h"

static const sr_glyphs utf8 = {
    .utf8 = true,
    .hline = "─",
    .vline = "│",
    .ul = "┌",
    .ur = "┐",
    .ll = "└",
    .lr = "┘",
    .spark = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"},
    .block = {"", "▏", "▎", "▍", "▌", "▋", "▊", "▉", "█"},
    .half_up = "▀",
    .half_down = "▄",
    .up = "▲",
    .down = "▼",
    .flat = "=",
    .ok = "●",
    .warn = "◆",
    .crit = "✖",
    .none = "·",
    .sep = " › ",
    .dot = "·",
    .range = "–",
    .enter = "↵",
    .back = "⌫",
    .arrows = "↑↓",
    .ellipsis = "…",
    .braille = true,
};

static const sr_glyphs ascii = {
    .utf8 = false,
    .hline = "-",
    .vline = "|",
    .ul = "+",
    .ur = "+",
    .ll = "+",
    .lr = "+",
    .spark = {"_", ".", "-", "~", "=", "+", "*", "#"},
    .block = {"", "#", "#", "#", "#", "#", "#", "#", "#"},
    .half_up = "\"",
    .half_down = ",",
    .up = "^",
    .down = "v",
    .flat = "=",
    .ok = "o",
    .warn = "!",
    .crit = "X",
    .none = ".",
    .sep = " > ",
    .dot = "-",
    .range = "-",
    .enter = "Enter",
    .back = "Bksp",
    .arrows = "arrows",
    .ellipsis = "~",
    .braille = false,
};

static const sr_glyphs *current = &ascii;

const sr_glyphs *sr_glyphs_get(void)
{
    return current;
}

void sr_glyphs_select(bool use_utf8)
{
    current = sr_glyphs_for(use_utf8);
}

const sr_glyphs *sr_glyphs_for(bool use_utf8)
{
    return use_utf8 ? &utf8 : &ascii;
}
