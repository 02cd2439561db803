; sort.s: quicksort of a table of 30 signed numbers, printed before and after.
;
; quicksort(lo, hi) sorts array[lo..hi] in place:
;   1. partition: move every element smaller than the pivot (array[hi]) to
;      the front, then put the pivot just after them, at index p;
;   2. sort array[lo..p-1] and array[p+1..hi] by calling itself.
; The recursion is what the stack is for: each call saves the registers it
; needs after its own recursive calls (lr, r8..r10) and restores them before
; returning, as the calling convention in lib/console.inc asks.

        .equ N, 30              ; number of elements

_start:
        la sp, stack_top
        la r1, s_before
        call puts
        call print_array
        mov r1, r0              ; quicksort(0, N - 1)
        li r2, N - 1
        call quicksort
        la r1, s_after
        call puts
        call print_array
        call check_sorted       ; r1 = 0 when sorted
        halt                    ; exit status: 0 = sorted

; quicksort: sorts array[r1 .. r2] (inclusive) in place.
quicksort:
        bge r1, r2, qs_return   ; 0 or 1 elements: nothing to do
        push lr
        push r8
        push r9
        push r10
        mov r8, r1              ; r8 = lo
        mov r9, r2              ; r9 = hi
        ld r3, array(r9)        ; r3 = pivot = array[hi]
        mov r10, r8             ; r10 = i: where the next small element goes
        mov r4, r8              ; r4 = j: the element being looked at
qs_scan:
        bge r4, r9, qs_place
        ld r5, array(r4)
        bge r5, r3, qs_skip     ; not smaller than the pivot: leave it
        ld r6, array(r10)       ; swap array[i] and array[j]
        st r5, array(r10)
        st r6, array(r4)
        addi r10, r10, 1
qs_skip:
        addi r4, r4, 1
        b qs_scan
qs_place:
        ld r5, array(r10)       ; swap array[i] and array[hi]: the pivot
        st r3, array(r10)       ; lands at index i, its final place
        st r5, array(r9)
        mov r1, r8              ; quicksort(lo, i - 1)
        addi r2, r10, -1
        call quicksort
        addi r1, r10, 1         ; quicksort(i + 1, hi)
        mov r2, r9
        call quicksort
        pop r10
        pop r9
        pop r8
        pop lr
qs_return:
        ret

; print_array: prints the N elements, 10 to a line.
print_array:
        push lr
        push r8
        mov r8, r0              ; r8 = index
pa_next:
        ld r1, array(r8)
        call putdec
        addi r8, r8, 1
        li r1, ' '
        li r2, 10
        rem r2, r8, r2
        bnez r2, pa_sep         ; index a multiple of 10: end the line
        li r1, '\n'
pa_sep:
        call putc
        slti r1, r8, N
        bnez r1, pa_next
        pop r8
        pop lr
        ret

; check_sorted: prints whether array[0..N-1] is in order; r1 = 0 if it is.
check_sorted:
        push lr
        li r1, 1                ; r1 = index of the right element of a pair
cs_next:
        ld r2, array-1(r1)
        ld r3, array(r1)
        blt r3, r2, cs_bad
        addi r1, r1, 1
        slti r2, r1, N
        bnez r2, cs_next
        la r1, s_ok
        call puts
        li r1, 0
        pop lr
        ret
cs_bad:
        la r1, s_bad
        call puts
        li r1, 1
        pop lr
        ret

array:
        .word  42, -7, 19, 3, 88, 0, -15, 64, 27, 5
        .word  11, 73, -2, 36, 9, 51, 19, -40, 100, 8
        .word  -7, 23, 66, 1, 95, 14, 30, -1, 57, 2
s_before: .string "before:\n"
s_after:  .string "after:\n"
s_ok:     .string "sorted: yes\n"
s_bad:    .string "sorted: NO\n"

        .space 160              ; the stack: 4 words per level of recursion,
                                ; at most N levels, plus putdec's digits
stack_top:

        .include "lib/console.inc"
