/* Run an ATmega328P firmware under simavr with its USART0 on a pseudo-terminal (simavr's uart_pty part), so
 * edgebind record can open it like a serial port. Prints "uart pty: /dev/pts/N" once the pty exists.
 * Build: make simavr-pty (needs libsimavr-dev). Usage: simavr_pty firmware.elf */
#include <simavr/parts/uart_pty.h>
#include <simavr/sim_avr.h>
#include <simavr/sim_elf.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    elf_firmware_t fw;
    avr_t *avr;
    uart_pty_t pty;
    if (argc != 2) {
        fprintf(stderr, "usage: %s firmware.elf\n", argv[0]);
        return 2;
    }
    memset(&fw, 0, sizeof fw);
    if (elf_read_firmware(argv[1], &fw) != 0) {
        fprintf(stderr, "cannot read %s\n", argv[1]);
        return 1;
    }
    avr = avr_make_mcu_by_name("atmega328p");
    if (!avr) return 1;
    avr_init(avr);
    avr_load_firmware(avr, &fw);
    avr->frequency = 16000000; /* Arduino Uno */
    uart_pty_init(avr, &pty);
    uart_pty_connect(&pty, '0');
    printf("uart pty: %s\n", pty.port[0].slavename);
    fflush(stdout);
    for (;;) {
        int state = avr_run(avr);
        if (state == cpu_Done || state == cpu_Crashed) break;
    }
    uart_pty_stop(&pty);
    return 0;
}
