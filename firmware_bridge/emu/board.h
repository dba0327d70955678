/* What the synthetic-sensor firmware needs from a board: a microsecond clock, a UART and a way to idle.
 * Implemented for QEMU's mps2-an385 (Cortex-M3, board_mps2_an385.c) and the ATmega328P (board_atmega328p.c). */
#ifndef EB_BOARD_H
#define EB_BOARD_H

#include <stddef.h>
#include <stdint.h>

void board_init(void);
uint32_t board_micros(void);                    /* free-running, wraps after 71.6 min like Arduino micros() */
int board_getc(void);                           /* a received byte, or -1 when none is waiting */
void board_write(const uint8_t *data, size_t len);
void board_idle(void);                          /* sleep until the next interrupt (tick or received byte) */
void board_clock_settle(void);                  /* forget host stalls not yet made up (QEMU; a no-op elsewhere) */

#endif /* EB_BOARD_H */
