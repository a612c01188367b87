/* assert(): prints file:line and the expression, then abort()s. NDEBUG disables it. */
#ifndef BERYL_ASSERT_H
#define BERYL_ASSERT_H

__attribute__((noreturn)) void __beryl_assert_fail(const char *expr, const char *file, int line);

#ifdef NDEBUG
#define assert(e) ((void)0)
#else
#define assert(e) ((e) ? (void)0 : __beryl_assert_fail(#e, __FILE__, __LINE__))
#endif

#endif
