/*
 * widget.c - the table of widget classes, by the names the config uses
 * (`widget =` of a [panel.NAME]).
 */
#include <string.h>

#include "tui.h"

static const sr_widget_class *const widgets[] = {
    &sr_widget_tile,  &sr_widget_sparkline, &sr_widget_gauge,     &sr_widget_bars,
    &sr_widget_table, &sr_widget_chart,     &sr_widget_histogram, &sr_widget_spread,
};

const sr_widget_class *sr_widget_find(const char *name)
{
    for (size_t i = 0; name && i < sizeof widgets / sizeof widgets[0]; i++) {
        if (strcmp(widgets[i]->name, name) == 0)
            return widgets[i];
    }
    return NULL;
}
