_start:
  li r1, 0
loop:
  addi r1, r1, 1
  st r1, 100(r0)
  b loop
