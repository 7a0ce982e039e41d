/* gendoc: what the build generates from the option table (src/config/), so
 * that the installed man page and bash completion cannot drift from the flag
 * parser:
 *
 *   gendoc man NAME              the man page of the program installed as NAME
 *   gendoc completion NAME...    a bash completion registered for each NAME
 *   gendoc markdown              the option table of docs/reference.md */
#include <stdio.h>
#include <string.h>

#include "config/config.h"

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "man"))
        config_print_man(stdout, argv[2], TRAIN_VERSION);
    else if (argc >= 3 && !strcmp(argv[1], "completion"))
        config_print_completion(stdout, (const char *const *)argv + 2, argc - 2);
    else if (argc == 2 && !strcmp(argv[1], "markdown"))
        config_print_markdown(stdout);
    else {
        fputs("usage: gendoc man NAME | gendoc completion NAME... | gendoc markdown\n", stderr);
        return 64;
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fputs("gendoc: stdout: write error\n", stderr);
        return 74;
    }
    return 0;
}
