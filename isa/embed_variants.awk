# Turns the built-in variant files into C string literals, so that the files
# in isa/variants/ stay their only definition.  Usage: awk -f THIS FILE...
#
# Emits two tables made from the same files, in the same order: the default
# variant (DEFAULT, which ISA.md's reset state and --isa's default name)
# first, then the others in the order of the arguments (the Makefile sorts
# them by file name):
#   isa_builtin_variants[]          {name, text}, ended by {NULL, NULL}
#   isa_builtin_variant_name_list[] the names, ended by NULL
# It fails when no file defines the default variant.
BEGIN {
    DEFAULT = "pg"
    n = 0
}
FNR == 1 {
    name = FILENAME
    sub(/.*\//, "", name)
    sub(/\.var$/, "", name)
    names[++n] = name
    text[n] = ""
}
{
    line = $0
    gsub(/\\/, "\\\\", line)
    gsub(/"/, "\\\"", line)
    text[n] = text[n] sprintf("        \"%s\\n\"\n", line)
}
END {
    first = 0
    for (i = 1; i <= n; i++) if (names[i] == DEFAULT) first = i
    if (!first) {
        print "embed_variants.awk: no " DEFAULT ".var among the built-in variants" > "/dev/stderr"
        exit 1
    }
    order[1] = first
    k = 1
    for (i = 1; i <= n; i++) if (i != first) order[++k] = i

    print "/* Generated from isa/variants/ by isa/embed_variants.awk: do not edit. */"
    print "#include <stddef.h>"
    print "struct isa_builtin_variant { const char *name; const char *text; };"
    print "extern const struct isa_builtin_variant isa_builtin_variants[];"
    print "extern const char *const isa_builtin_variant_name_list[];"
    print "const struct isa_builtin_variant isa_builtin_variants[] = {"
    for (k = 1; k <= n; k++) {
        i = order[k]
        printf "    {\"%s\",\n%s    },\n", names[i], text[i]
    }
    print "    {NULL, NULL},"
    print "};"
    print "const char *const isa_builtin_variant_name_list[] = {"
    for (k = 1; k <= n; k++) printf "    \"%s\",\n", names[order[k]]
    print "    NULL,"
    print "};"
}
