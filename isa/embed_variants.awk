# Turns the built-in variant files into C string literals, so that the files
# in isa/variants/ stay their only definition.  Usage: awk -f THIS FILE...
BEGIN {
    print "/* Generated from isa/variants/ by isa/embed_variants.awk: do not edit. */"
    print "#include <stddef.h>"
    print "struct isa_builtin_variant { const char *name; const char *text; };"
    print "extern const struct isa_builtin_variant isa_builtin_variants[];"
    print "const struct isa_builtin_variant isa_builtin_variants[] = {"
}
FNR == 1 {
    if (NR > 1) print "    },"
    name = FILENAME
    sub(/.*\//, "", name)
    sub(/\.var$/, "", name)
    printf "    {\"%s\",\n", name
}
{
    line = $0
    gsub(/\\/, "\\\\", line)
    gsub(/"/, "\\\"", line)
    printf "        \"%s\\n\"\n", line
}
END {
    if (NR > 0) print "    },"
    print "    {NULL, NULL},"
    print "};"
}
