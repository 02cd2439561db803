.include "lib/console.inc"
.include "lib/console.inc"
.include "../programs/lib/console.inc"
.include "/dev/zero"
_start: halt
