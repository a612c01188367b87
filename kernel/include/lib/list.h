/*
 * Intrusive circular doubly-linked list. A list head is a list_node whose prev/next
 * point at itself when empty. Nodes must be initialised (list_init) or inserted before
 * use; list_delete leaves the node self-linked so list_in_list() stays meaningful.
 */
#ifndef LIB_LIST_H
#define LIB_LIST_H

#include <stdbool.h>
#include <stddef.h>
#include <kernel/compiler.h>

struct list_node {
    struct list_node *prev;
    struct list_node *next;
};

#define LIST_INITIAL_VALUE(list) { &(list), &(list) }

static inline void list_init(struct list_node *list) {
    list->prev = list->next = list;
}

static inline bool list_is_empty(const struct list_node *list) {
    return list->next == list;
}

static inline bool list_in_list(const struct list_node *node) {
    return node->next != node;
}

static inline void list_add_after(struct list_node *pos, struct list_node *node) {
    node->prev = pos;
    node->next = pos->next;
    pos->next->prev = node;
    pos->next = node;
}

static inline void list_add_head(struct list_node *list, struct list_node *node) {
    list_add_after(list, node);
}

static inline void list_add_tail(struct list_node *list, struct list_node *node) {
    list_add_after(list->prev, node);
}

static inline void list_delete(struct list_node *node) {
    node->next->prev = node->prev;
    node->prev->next = node->next;
    node->prev = node->next = node;
}

/* Removes and returns the first node, or NULL if the list is empty. */
static inline struct list_node *list_remove_head(struct list_node *list) {
    if (list_is_empty(list))
        return NULL;
    struct list_node *n = list->next;
    list_delete(n);
    return n;
}

/* Moves every node of `from` (left empty) to the empty list `to`, in order, in O(1). */
static inline void list_move_all(struct list_node *from, struct list_node *to) {
    list_init(to);
    if (list_is_empty(from))
        return;
    to->next = from->next;
    to->prev = from->prev;
    to->next->prev = to;
    to->prev->next = to;
    list_init(from);
}

static inline size_t list_length(const struct list_node *list) {
    size_t n = 0;
    for (const struct list_node *it = list->next; it != list; it = it->next)
        n++;
    return n;
}

#define list_for_every(list, node) \
    for ((node) = (list)->next; (node) != (list); (node) = (node)->next)

#define list_for_every_entry(list, entry, type, member)                        \
    for ((entry) = containerof((list)->next, type, member);                      \
         &(entry)->member != (list);                                             \
         (entry) = containerof((entry)->member.next, type, member))

#endif
