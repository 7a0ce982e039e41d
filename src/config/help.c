/* help: what config/ prints: --help from the option table, and the effective
 * settings as JSON (--print-config, a model file's stored settings); the man
 * page and the bash completion from the same table and the same words as
 * --help (src/gendoc.c writes them at build time), so none can drift. */
#include "options.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

static const char *GROUP_TITLE[N_GROUPS] = {"Model", "Training", "Data", "Output",
                                            "Saving, resuming, predicting"};

cJSON *config_to_json(const struct config *c, bool model_only)
{
    cJSON *root = cJSON_CreateObject();
    for (size_t i = 0; root && i < option_count; i++) {
        if (model_only && option_table[i].local && !option_table[i].carried)
            continue;
        /* an unset optional file (predictions, save, ...) is left out: "" would not load back */
        if (option_table[i].type == T_PATH && !*(char *)option_field((struct config *)c, &option_table[i]))
            continue;
        cJSON *v = option_value_json(c, &option_table[i]);
        if (!v || !cJSON_AddItemToObject(root, option_table[i].key, v)) {
            cJSON_Delete(v);
            cJSON_Delete(root);
            return NULL;
        }
    }
    return root;
}

/* ---- what --help and the man page share ---- */

/* The words after the option list, for --help and the man page alike: a
 * section title, then rows of (term, text); one text with no term is a
 * paragraph. */
struct row {
    const char *term, *text;
};
struct section {
    const char *title;
    const char *term;   /* what a row's term is, a table column's title */
    const struct row *rows;
};

static const struct row CONFIG_ROWS[] = {
    {NULL, "--config NAME is looked up as NAME, then NAME.json, in ./, then "
           "$XDG_CONFIG_HOME/" CONFIG_PRODUCT "/configs (~/.config/" CONFIG_PRODUCT
           "/configs), then the installed share/" CONFIG_PRODUCT "/configs (softmax, sigmoid, "
           "nielsen/ch3-30-ce, ...); an absolute NAME, one that starts with ./ or holds a .. "
           "is a path, used as typed."},
    {NULL, "The MNIST folder is --data-dir, else $MNIST_DIR, else ./data/mnist when it is a "
           "folder, else $XDG_DATA_HOME/" CONFIG_PRODUCT "/mnist (~/.local/share/" CONFIG_PRODUCT
           "/mnist), where " CONFIG_PRODUCT "-fetch puts it."},
    {NULL, NULL}};
static const struct row EXIT_ROWS[] = {
    {"0", "success"},
    {"64", "usage error (a bad flag, value or config key)"},
    {"65", "bad data, a bad model file, or training diverged"},
    {"66", "missing input: the MNIST files, a config, a model"},
    {"69", "precision not available on this CPU"},
    {"70", "internal error"},
    {"73", "cannot create an output file"},
    {"74", "I/O error (a closed stdout too; with --save, a checkpoint was saved)"},
    {"129, 130, 141, 143", "interrupted (SIGHUP, SIGINT, SIGPIPE, SIGTERM); with --save, a "
     "checkpoint was saved"},
    {NULL, NULL}};
static const struct row ENV_ROWS[] = {
    {"MNIST_DIR", "the MNIST folder when --data-dir is not given"},
    {"XDG_CONFIG_HOME", "configs are also looked up in $XDG_CONFIG_HOME/" CONFIG_PRODUCT
                        "/configs (default ~/.config); a relative value is ignored"},
    {"XDG_DATA_HOME", "the MNIST folder when neither --data-dir, MNIST_DIR nor ./data/mnist: "
                      "$XDG_DATA_HOME/" CONFIG_PRODUCT "/mnist (default ~/.local/share); a "
                      "relative value is ignored"},
    {"HOME", "the base of the two defaults above"},
    {NULL, NULL}};
static const struct row FILE_ROWS[] = {
    {"~/.config/" CONFIG_PRODUCT "/configs/", "your configs, found by name"},
    {"PREFIX/share/" CONFIG_PRODUCT "/configs/", "the installed configs (default, softmax, "
                                                  "sigmoid, ...), found by name"},
    {"~/.local/share/" CONFIG_PRODUCT "/mnist/", "the MNIST files (train-images-idx3-ubyte.gz "
                                                  "and three more), fetched by "
                                                  CONFIG_PRODUCT "-fetch"},
    {NULL, NULL}};
static const struct row EXAMPLE_ROWS[] = {
    {CONFIG_PRODUCT "-fetch", "download and verify MNIST (11 MB) into ~/.local/share"},
    {CONFIG_PRODUCT " --config softmax", "train the 99% recipe: 784-800-800-10, dropout, "
                                         "shifted images, 40 epochs"},
    {CONFIG_PRODUCT " --config sigmoid --quiet", "print only the test accuracy"},
    {CONFIG_PRODUCT " --head sigmoid --epochs 3 --save m.bin --json",
     "train, save the model, one JSON line per epoch"},
    {CONFIG_PRODUCT " --load m.bin --epochs 0 --report", "evaluate a saved model, with the head "
                                                        "report"},
    {CONFIG_PRODUCT " --config softmax --print-config > my.json",
     "the effective settings, as a config to edit"},
    {NULL, NULL}};
static const struct section SECTIONS[] = {
    {"Config files and data", NULL, CONFIG_ROWS}, {"Exit status", "exit", EXIT_ROWS},
    {"Environment", "variable", ENV_ROWS}, {"Files", "file", FILE_ROWS},
    {"Examples", "command", EXAMPLE_ROWS}};
#define N_SECTIONS (sizeof SECTIONS / sizeof SECTIONS[0])

/* text wrapped at 79 columns, each line indented by ind */
static void wrap(FILE *f, const char *s, int ind, int col)
{
    while (*s) {
        size_t room = (size_t)(79 - col), n = strlen(s);
        if (n > room) {
            n = room;
            while (n > 0 && s[n] != ' ')
                n--;
            if (!n)
                n = strcspn(s, " ");
        }
        fprintf(f, "%.*s\n", (int)n, s);
        s += n;
        s += *s == ' ';
        if (*s)
            fprintf(f, "%*s", ind, "");
        col = ind;
    }
}

static void print_sections(FILE *f)
{
    for (size_t i = 0; i < N_SECTIONS; i++) {
        fprintf(f, "\n%s:\n", SECTIONS[i].title);
        for (const struct row *r = SECTIONS[i].rows; r->text; r++) {
            if (!r->term) {
                fputs("  ", f);
                wrap(f, r->text, 2, 2);
            } else if (strlen(r->term) < 18) {
                fprintf(f, "  %-18s ", r->term);
                wrap(f, r->text, 21, 21);
            } else {
                fprintf(f, "  %s\n%21s", r->term, "");
                wrap(f, r->text, 21, 21);
            }
        }
    }
}

/* "--batch-size N": the flag as typed, with its placeholder */
static void flag_text(char *buf, size_t n, const struct option *o)
{
    snprintf(buf, n, "--%s%s%s", o->key, o->arg ? " " : "", o->arg ? o->arg : "");
    for (char *p = buf; *p && *p != ' '; p++)
        if (*p == '_')
            *p = '-';
}

/* an option's values: its range or its choices ("" for the others) */
static void values_text(char *buf, size_t n, const struct option *o)
{
    buf[0] = 0;
    if (o->type == T_INT || o->type == T_REAL)
        option_range_text(o, buf, n);
    else if (o->type == T_ENUM)
        option_join_choices(buf, n, o->choices);
}

/* the second line of an option's help: range or choices, and default */
static void default_text(char *buf, size_t n, const struct option *o)
{
    char range[128];
    values_text(range, sizeof range, o);
    snprintf(buf, n, "%s%s%s%s", range, *range && *o->def ? "; " : "", *o->def ? "default: " : "",
             o->def);
}

/* the options that are flags only, not settings: --help, the man page and
 * the Markdown table list them first */
static const struct row GENERAL_ROWS[] = {
    {"--config NAME", "read settings from a JSON config file: a path, or a name looked up as "
                      "CONFIG FILES AND DATA says"},
    {"--print-config", "print the effective config as JSON and exit"},
    {"-h, --help", "print the help and exit"},
    {"--version", "print versions of the program and its libraries and exit"},
    {NULL, NULL}};

/* one option as a rendering writes it: its flag and its range-and-default
 * line ("" when it has none) */
typedef void option_writer(FILE *f, const struct option *o, const char *flag, const char *def);

/* the options of group g, in table order, each through write */
static void each_option(FILE *f, int g, option_writer *write)
{
    for (size_t i = 0; i < option_count; i++) {
        const struct option *o = &option_table[i];
        if ((int)o->group != g)
            continue;
        char flag[64], def[256];
        flag_text(flag, sizeof flag, o);
        default_text(def, sizeof def, o);
        write(f, o, flag, def);
    }
}

static void help_option(FILE *f, const struct option *o, const char *flag, const char *def)
{
    fprintf(f, "  %-20s %s\n", flag, o->help);
    if (*def)
        fprintf(f, "  %-20s %s\n", "", def);
}

void config_print_help(FILE *f, const char *prog)
{
    fprintf(f, "Usage: %s [OPTION]...\n", prog);
    fputs("Train a small MLP on MNIST with a softmax or a sigmoid output head.\n"
          "Every option is also a key of a JSON config file (--batch-size <-> \"batch_size\");\n"
          "flags override the config file, which overrides the defaults.\n\n"
          "  --config NAME        read settings from a JSON config file: a path, or a name\n"
          "                       looked up as below (--config softmax)\n"
          "  --print-config       print the effective config as JSON and exit\n"
          "  -h, --help           print this help and exit\n"
          "  --version            print versions of train and its libraries and exit\n",
          f);
    for (int g = 0; g < N_GROUPS; g++) {
        fprintf(f, "\n%s:\n", GROUP_TITLE[g]);
        each_option(f, g, help_option);
    }
    fputs("\nBooleans take --flag, --no-flag or --flag=true|false.\n", f);
    print_sections(f);
}

/* ---- the man page ---- */

/* s as roff text on its own line: dashes as \-, backslashes as \e, and a
 * leading \& so that no line can start a request */
static void roff(FILE *f, const char *s)
{
    fputs("\\&", f);
    for (; *s; s++) {
        if (*s == '-')
            fputs("\\-", f);
        else if (*s == '\\')
            fputs("\\e", f);
        else
            fputc(*s, f);
    }
    fputc('\n', f);
}

static void roff_flag(FILE *f, const char *flag)
{
    const char *sp = strchr(flag, ' ');
    size_t n = sp ? (size_t)(sp - flag) : strlen(flag);
    fputs("\\fB", f);
    for (size_t i = 0; i < n; i++)
        fputs(flag[i] == '-' ? "\\-" : (char[]){flag[i], 0}, f);
    fputs("\\fR", f);
    if (sp) {
        fputs(" \\fI", f);
        for (const char *p = sp + 1; *p; p++)
            fputs(*p == '-' ? "\\-" : (char[]){*p, 0}, f);
        fputs("\\fR", f);
    }
    fputc('\n', f);
}

static void man_option(FILE *f, const struct option *o, const char *flag, const char *def)
{
    fputs(".TP\n", f);
    roff_flag(f, flag);
    roff(f, o->help);
    if (*def) {
        fputs(".br\n", f);
        roff(f, def);
    }
}

void config_print_man(FILE *f, const char *prog, const char *version)
{
    fprintf(f, ".\\\" generated from the option table of %s (src/config/); do not edit\n", prog);
    fprintf(f, ".TH \"%s\" 1 \"\" \"%s %s\" \"User Commands\"\n", prog, prog, version);
    fputs(".nh\n.ad l\n.SH NAME\n", f);
    fprintf(f, "%s \\- train a small MLP on MNIST with a softmax or a sigmoid output head\n",
            prog);
    fprintf(f, ".SH SYNOPSIS\n.B %s\n[\\fIOPTION\\fR]...\n", prog);
    fputs(".SH DESCRIPTION\n", f);
    roff(f, "Trains a multi-layer perceptron on the MNIST digits and reports its test "
            "accuracy, with either a softmax output layer and cross-entropy or ten sigmoid "
            "outputs and binary cross-entropy, so that the two can be compared like for like.");
    fputs(".PP\n", f);
    roff(f, "Every option is also a key of a JSON config file (--batch-size is \"batch_size\"); "
            "flags override the config file, which overrides the defaults, which the settings "
            "of a model given with --load or --resume replace.");
    fputs(".SH OPTIONS\n", f);
    for (const struct row *r = GENERAL_ROWS; r->term; r++) {
        fputs(".TP\n", f);
        roff_flag(f, r->term);
        roff(f, r->text);
    }
    for (int g = 0; g < N_GROUPS; g++) {
        fputs(".SS ", f);
        roff(f, GROUP_TITLE[g]);
        each_option(f, g, man_option);
    }
    fputs(".PP\n", f);
    roff(f, "Booleans take --flag, --no-flag or --flag=true|false.");
    for (size_t i = 0; i < N_SECTIONS; i++) {
        fputs(".SH \"", f);
        for (const char *p = SECTIONS[i].title; *p; p++)
            fputc(toupper((unsigned char)*p), f);
        fputs("\"\n", f);
        for (const struct row *r = SECTIONS[i].rows; r->text; r++) {
            if (!r->term) {
                fputs(".PP\n", f);
                roff(f, r->text);
                continue;
            }
            fputs(i == N_SECTIONS - 1 ? ".TP\n.B\n" : ".TP\n", f);
            roff(f, r->term);
            roff(f, r->text);
        }
    }
    fputs(".SH \"SEE ALSO\"\n\\fB" CONFIG_PRODUCT "\\-compare\\fR(1), \\fB" CONFIG_PRODUCT
          "\\-fetch\\fR(1); docs/install.md and README.md in the source tree\n", f);
}

/* ---- the Markdown reference (docs/reference.md's option table) ---- */

/* s in a Markdown table cell: '|' escaped */
static void md_cell(FILE *f, const char *s)
{
    fputs("| ", f);
    for (; *s; s++)
        fputs(*s == '|' ? "\\|" : (char[]){*s, 0}, f);
    fputc(' ', f);
}

static void md_option(FILE *f, const struct option *o, const char *flag, const char *def)
{
    (void)def;
    char code[96], key[80], values[256];
    snprintf(code, sizeof code, "`%s`", flag);
    snprintf(key, sizeof key, "`%s`", o->key);
    values_text(values, sizeof values, o);
    md_cell(f, code);
    md_cell(f, key);
    md_cell(f, values);
    md_cell(f, o->def);
    md_cell(f, o->help);
    fputs("|\n", f);
}

static void md_option_header(FILE *f, const char *title, int first)
{
    fprintf(f, "%s**%s**\n\n| option | config key | values | default | meaning |\n"
               "|---|---|---|---|---|\n", first ? "" : "\n", title);
}

void config_print_markdown(FILE *f)
{
    md_option_header(f, "General", 1);
    for (const struct row *r = GENERAL_ROWS; r->term; r++) {
        char code[64];
        snprintf(code, sizeof code, "`%s`", r->term);
        md_cell(f, code);
        md_cell(f, "(flag only)");
        md_cell(f, "");
        md_cell(f, "");
        md_cell(f, r->text);
        fputs("|\n", f);
    }
    for (int g = 0; g < N_GROUPS; g++) {
        md_option_header(f, GROUP_TITLE[g], 0);
        each_option(f, g, md_option);
    }
    fputs("\nBooleans take `--flag`, `--no-flag` or `--flag=true|false`.\n", f);
    for (size_t i = 0; i < N_SECTIONS; i++) {
        fprintf(f, "\n**%s**\n\n", SECTIONS[i].title);
        if (SECTIONS[i].term)
            fprintf(f, "| %s | meaning |\n|---|---|\n", SECTIONS[i].term);
        for (const struct row *r = SECTIONS[i].rows; r->text; r++) {
            if (!r->term) {   /* a paragraph */
                fprintf(f, "%s%s\n", r == SECTIONS[i].rows ? "" : "\n", r->text);
                continue;
            }
            char code[256];
            snprintf(code, sizeof code, "`%s`", r->term);
            md_cell(f, code);
            md_cell(f, r->text);
            fputs("|\n", f);
        }
    }
}

/* ---- bash completion ---- */

void config_print_completion(FILE *f, const char *const *names, int n_names)
{
    fputs("# bash completion for " CONFIG_PRODUCT ", generated from its option table "
          "(src/config/); do not edit\n", f);
    fputs("_mnist_train()\n{\n"
          "    local cur prev words cword\n"
          "    _init_completion -s 2>/dev/null || {\n"
          "        cur=${COMP_WORDS[COMP_CWORD]}\n"
          "        prev=${COMP_WORDS[COMP_CWORD-1]}\n"
          "    }\n"
          "    case $prev in\n", f);
    for (size_t i = 0; i < option_count; i++) {
        const struct option *o = &option_table[i];
        char flag[64];
        flag_text(flag, sizeof flag, o);
        flag[strcspn(flag, " ")] = 0;
        if (o->type == T_ENUM) {
            fprintf(f, "        %s) COMPREPLY=($(compgen -W \"", flag);
            for (const char *const *c = o->choices; *c; c++)
                fprintf(f, "%s%s", c == o->choices ? "" : " ", *c);
            fputs("\" -- \"$cur\")); return ;;\n", f);
        } else if (o->type == T_BOOL) {
            continue;   /* takes no word after it: the next one is a flag */
        } else if (o->type == T_PATH) {
            fprintf(f, "        %s) COMPREPLY=($(compgen -%c -- \"$cur\")); return ;;\n", flag,
                    !strcmp(o->key, "data_dir") ? 'd' : 'f');
        } else if (o->type == T_AUGMENT) {
            fprintf(f, "        %s) COMPREPLY=($(compgen -W \"none shift:1 shift:2 affine: "
                       "elastic: affine+elastic:\" -- \"$cur\")); return ;;\n", flag);
        } else {
            fprintf(f, "        %s) return ;;\n", flag);   /* a number: nothing to offer */
        }
    }
    /* configs by name: the folders --config searches, as config_find does */
    fputs("        --config)\n"
          "            local share names\n"
          "            share=$(dirname -- \"$(command -v -- \"${COMP_WORDS[0]}\")\" 2>/dev/null)/../share/"
          CONFIG_PRODUCT "/configs\n"
          "            names=$(for d in \"${XDG_CONFIG_HOME:-$HOME/.config}/" CONFIG_PRODUCT
          "/configs\" \"$share\"; do\n"
          "                [ -d \"$d\" ] && (cd -- \"$d\" && ls -- *.json */*.json */*/*.json "
          "2>/dev/null)\n"
          "            done | sed 's/\\.json$//' | LC_ALL=C sort -u)\n"
          "            COMPREPLY=($(compgen -W \"$names\" -- \"$cur\") $(compgen -f -- \"$cur\"))\n"
          "            return ;;\n"
          "    esac\n"
          "    if [[ $cur == -* ]]; then\n"
          "        COMPREPLY=($(compgen -W \"--config --print-config --help --version", f);
    for (size_t i = 0; i < option_count; i++) {
        char flag[64];
        flag_text(flag, sizeof flag, &option_table[i]);
        flag[strcspn(flag, " ")] = 0;
        fprintf(f, " %s", flag);
        if (option_table[i].type == T_BOOL)
            fprintf(f, " --no-%s", flag + 2);
    }
    fputs("\" -- \"$cur\"))\n    fi\n}\ncomplete -F _mnist_train", f);
    for (int i = 0; i < n_names; i++)
        fprintf(f, " %s", names[i]);
    fputc('\n', f);
}
