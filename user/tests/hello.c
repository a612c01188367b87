/* The smallest test program: no framework, exit code 0 counts as one passed case. */
#include <stdio.h>

int main(int argc, char **argv) {
    printf("hello from %s\n", argc > 0 ? argv[0] : "?");
    return 0;
}
