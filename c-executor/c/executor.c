/*
 * executor.c - see executor.h for the contract.
 *
 * Invariants: `e->head` starts a NULL-terminated list of `e->queued` tasks linked through
 * their `struct exec_link`, sorted by non-increasing priority; a task is on the list at most
 * once (a task-ffi runnable exists once); the list is touched only inside lock/unlock. A
 * popped task belongs to the caller of `pop` until it is handed to `run` or `drop`.
 */
#include "executor.h"

static struct exec_link *link_of(const struct exec *e, void *task)
{
    return (struct exec_link *)((unsigned char *)task + e->config.data_offset);
}

static void lock(const struct exec *e)
{
    if (e->config.lock != NULL) {
        e->config.lock();
    }
}

static void unlock(const struct exec *e)
{
    if (e->config.unlock != NULL) {
        e->config.unlock();
    }
}

/* Removes the first task; NULL when empty. */
static void *pop(struct exec *e)
{
    void *task;

    lock(e);
    task = e->head;
    if (task != NULL) {
        struct exec_link *link = link_of(e, task);
        e->head = link->next;
        link->next = NULL;
        e->queued--;
    }
    unlock(e);
    return task;
}

void exec_init(struct exec *e, const struct exec_config *config)
{
    e->config = *config;
    e->head = NULL;
    e->queued = 0;
}

void exec_push(struct exec *e, void *task)
{
    struct exec_link *link = link_of(e, task);
    void **slot;

    lock(e);
    /* Walk past every task of the same or a higher priority (FIFO among equals). */
    slot = &e->head;
    while (*slot != NULL) {
        struct exec_link *cur = link_of(e, *slot);
        if (cur->priority < link->priority) {
            break;
        }
        slot = &cur->next;
    }
    link->next = *slot;
    *slot = task;
    e->queued++;
    unlock(e);
}

size_t exec_run_all(struct exec *e)
{
    size_t runs = 0;
    void *task;

    while ((task = pop(e)) != NULL) {
        link_of(e, task)->runs++;
        /* `run` consumes the task; a reschedule comes back through exec_push. */
        (void)e->config.run(task);
        runs++;
    }
    return runs;
}

size_t exec_drop_all(struct exec *e)
{
    size_t dropped = 0;
    void *task;

    while ((task = pop(e)) != NULL) {
        e->config.drop(task);
        dropped++;
    }
    return dropped;
}

size_t exec_len(struct exec *e)
{
    size_t n;

    lock(e);
    n = e->queued;
    unlock(e);
    return n;
}

size_t exec_size(void)
{
    return sizeof(struct exec);
}
