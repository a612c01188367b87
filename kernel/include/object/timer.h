/*
 * Timers (kernel/object/timer.c): objects that assert ZX_TIMER_SIGNALED when the
 * monotonic clock reaches the deadline they were set to.
 */
#ifndef OBJECT_TIMER_H
#define OBJECT_TIMER_H

#include <object/kobject.h>

/* zx_timer_create options: where within deadline +- slack the timer may fire. */
#define TIMER_SLACK_OPTIONS_MAX ZX_TIMER_SLACK_LATE

/* Starts the timer thread; once at boot, after the scheduler. */
void timer_init(void);

/* Creates a disarmed timer (`options` is a ZX_TIMER_SLACK_* value, already checked);
 * *out holds the one reference. Returns ZX_OK or ZX_ERR_NO_MEMORY. */
zx_status_t timer_create(uint32_t options, kobject_t **out);

/* Clears ZX_TIMER_SIGNALED and arms the timer for deadline (slack >= 0, checked by the
 * caller; a deadline already past fires at once), replacing any earlier setting. */
void timer_set(kobject_t *timer, zx_time_t deadline, zx_duration_t slack);

/* Disarms the timer and clears ZX_TIMER_SIGNALED. */
void timer_cancel(kobject_t *timer);

#endif
