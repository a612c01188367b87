/*
 * The kernel debug console's thread (debug_console.h; the files are described in
 * debug_console_priv.h): it waits at the gate for a session request, then prints the
 * prompt, reads command lines from the serial port and runs them until `exit`.
 *
 * Input is polled (the UART raises no interrupts): while no byte is waiting the thread
 * sleeps DEBUG_CONSOLE_POLL_NS between looks, with interrupts on. The port does not echo,
 * so the console echoes what it keeps of a line: printable characters, backspace (BS or
 * DEL) erasing one, Ctrl-C dropping the line. A line ends at CR or LF (CR LF counts as
 * one end).
 */
#include <arch/serial.h>
#include <arch/timer.h>
#include <kernel/console.h>
#include <kernel/thread.h>
#include <lib/string.h>
#include "debug_console.h"
#include "debug_console_priv.h"
#include "proc_priv.h"

#define DEBUG_CONSOLE_PROMPT "beryl> "
#define DEBUG_CONSOLE_LINE_MAX 128
#define DEBUG_CONSOLE_MAX_WORDS 4
#define DEBUG_CONSOLE_POLL_NS ((zx_time_t)10 * 1000 * 1000)
#define ASCII_CTRL_C 0x03
#define ASCII_BS 0x08
#define ASCII_DEL 0x7f
#define ASCII_FIRST_PRINTABLE 0x20
#define ASCII_LAST_PRINTABLE 0x7e

/* The console's thread (it never exits) and its line buffer. */
static thread_t console_thread;
static char line[DEBUG_CONSOLE_LINE_MAX];
/* The last byte read was a CR: an LF right after it ends nothing. */
static bool after_cr;

/* The commands: their words after the name, and what `help` says. */
struct command {
    const char *name;
    int args;
    const char *usage;
    const char *help;
};

static const struct command commands[] = {
    {"help", 0, "help", "this list"},
    {"ps", 0, "ps", "processes: koid, state, live threads, handles, name"},
    {"threads", 0, "threads", "user threads: koid, state, process koid and name, name"},
    {"vmar", 1, "vmar KOID", "the VM dump of process KOID: VMARs, mappings, entries"},
    {"aspace", 1, "aspace KOID", "the page tables of process KOID"},
    {"walk", 2, "walk KOID VA", "the mapping at VA in process KOID and its page-table walk"},
    {"pmm", 0, "pmm", "physical pages: free, total, by use"},
    {"heap", 0, "heap", "the kernel heap: pages, bytes in use"},
    {"irqoff", 0, "irqoff", "the longest interrupts-off stretch since boot, and where"},
    {"exit", 0, "exit", "end the session (the kernel goes on)"},
};
#define COMMAND_COUNT (sizeof(commands) / sizeof(commands[0]))

/* The next byte from the serial port, sleeping between polls until one arrives. */
static char read_byte(void) {
    char c;
    while (!arch_serial_try_getc(&c))
        thread_sleep_until(current_time() + DEBUG_CONSOLE_POLL_NS);
    return c;
}

/* Reads one line into `line` (NUL-terminated, longer lines cut at the buffer's size),
 * echoing it; Ctrl-C gives an empty line. */
static void read_line(void) {
    size_t n = 0;
    for (;;) {
        char c = read_byte();
        bool lf_after_cr = c == '\n' && after_cr;
        after_cr = c == '\r';
        if (lf_after_cr)
            continue;
        if (c == '\r' || c == '\n') {
            console_write("\n", 1);
            break;
        }
        if (c == ASCII_CTRL_C) {
            console_write("^C\n", 3);
            n = 0;
            break;
        }
        if (c == ASCII_BS || c == ASCII_DEL) {
            if (n > 0) {
                n--;
                console_write("\b \b", 3);
            }
            continue;
        }
        if (c < ASCII_FIRST_PRINTABLE || c > ASCII_LAST_PRINTABLE ||
            n == DEBUG_CONSOLE_LINE_MAX - 1)
            continue;
        line[n++] = c;
        console_write(&c, 1);
    }
    line[n] = '\0';
}

/* Splits `line` in place at blanks; returns the number of words (at most max; more
 * words make it return max + 1, with only the first max stored). */
static int split_words(char **words, int max) {
    int n = 0;
    char *p = line;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            return n;
        if (n == max)
            return max + 1;
        words[n++] = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        if (*p)
            *p++ = '\0';
    }
}

static void print_help(void) {
    printf("commands (KOID: a process's koid, as ps lists them; VA: an address, 0x... for "
           "hex):\n");
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        printf("  %-14s %s\n", commands[i].usage, commands[i].help);
}

static const struct command *find_command(const char *name) {
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

/* Runs one command line (words[0] the command); false when it was `exit`. */
static bool run_command(int nwords, char **words, const struct debug_console_request *r) {
    const struct command *c = find_command(words[0]);
    if (!c) {
        printf("unknown command \"%s\" (help lists the commands)\n", words[0]);
        return true;
    }
    int argc = nwords - 1;
    char **args = words + 1;
    if (argc != c->args) {
        printf("usage: %s\n", c->usage);
        return true;
    }
    const char *n = c->name;
    if (strcmp(n, "exit") == 0)
        return false;
    if (strcmp(n, "help") == 0)
        print_help();
    else if (strcmp(n, "ps") == 0)
        debug_console_cmd_ps();
    else if (strcmp(n, "threads") == 0)
        debug_console_cmd_threads(r->reason == DEBUG_CONSOLE_AT_FAULT ? r->thread : NULL);
    else if (strcmp(n, "vmar") == 0)
        debug_console_cmd_vmar(argc, args);
    else if (strcmp(n, "aspace") == 0)
        debug_console_cmd_aspace(argc, args);
    else if (strcmp(n, "walk") == 0)
        debug_console_cmd_walk(argc, args);
    else if (strcmp(n, "pmm") == 0)
        debug_console_cmd_pmm();
    else if (strcmp(n, "heap") == 0)
        debug_console_cmd_heap();
    else if (strcmp(n, "irqoff") == 0)
        debug_console_cmd_irqoff();
    return true;
}

/* One session: the banner, then prompt, line, command until `exit`. */
static void run_session(const struct debug_console_request *r) {
    if (r->reason == DEBUG_CONSOLE_AT_FAULT)
        printf("debug console: process \"%s\" (koid %lu) stopped at a user fault; `exit` "
               "lets the kernel kill it\n", r->process_name, r->process_koid);
    else
        printf("debug console: the user suite has ended (userboot status %ld); `exit` "
               "powers off\n", (long)r->rc);
    printf("debug console: `help` lists the commands\n");
    for (;;) {
        console_write(DEBUG_CONSOLE_PROMPT, sizeof(DEBUG_CONSOLE_PROMPT) - 1);
        read_line();
        char *words[DEBUG_CONSOLE_MAX_WORDS];
        int n = split_words(words, DEBUG_CONSOLE_MAX_WORDS);
        if (n == 0)
            continue;
        if (n > DEBUG_CONSOLE_MAX_WORDS) {
            printf("too many words (help lists the commands)\n");
            continue;
        }
        if (!run_command(n, words, r))
            break;
    }
    printf("debug console: session ended\n");
}

static int console_main(void *arg) {
    (void)arg;
    for (;;) {
        struct debug_console_request *r = debug_console_next_request();
        run_session(r);
        debug_console_request_done(r);
    }
    return 0;
}

void debug_console_init(void) {
    bool at_faults;
    if (!debug_console_parse_switch(&at_faults))
        return;
    proc_registry_enable();
    if (thread_init(&console_thread, "debug-console", console_main, NULL) != ZX_OK) {
        printf("debug console: no memory for its thread; the console stays off\n");
        return;
    }
    debug_console_gate_open(at_faults);
    thread_start(&console_thread);
    printf("debug console: on: a prompt after the user suite%s\n",
           at_faults ? " and at each user fault" : "");
}
