/* Board support for QEMU's mps2-an385 (Arm MPS2 FPGA image AN385: Cortex-M3 at 25 MHz, CMSDK APB UART0 at
 * 0x40004000 wired to QEMU's serial0). Vector table, reset, the board's clock, UART.
 *
 * UART. QEMU's sends a byte the moment it is written. A real one shifts 10 bits (8N1) per byte at the baud rate
 * from a small transmit FIFO, and Serial.write blocks while the FIFO is full, so board_write models that: bytes
 * leave one per 10 / EB_UART_BAUD s of board time, at most EB_UART_TX_FIFO of them wait (the ESP32-S3's
 * UART has a 128-byte FIFO), and a write waits for room. A 1.6 KB thermal frame blocks the firmware for ~16 ms at
 * 921600 baud, as on a real board; a 138-byte IMU frame for ~0.1 ms.
 *
 * Clock. The free-running CMSDK APB TIMER0 (25 MHz down-counter), whose value QEMU computes from the host's
 * clock at each read (counting tick interrupts instead loses time when an interrupt comes late: 3 % slow on a
 * loaded machine). The firmware reads it all the time (the idle loop wakes at 4 kHz, board_write polls it), so
 * two reads more than EB_STALL_US apart mean the host did not run QEMU: a real board is never frozen while its
 * sensors go on, so that time is cut out of the board's clock (the IMU model stands still with the firmware) and
 * made up afterwards at 3x speed, keeping the board's clock with the host's over a recording. So is the time
 * a write waits for QEMU's pty (the host reader is behind; a real UART does not wait for its receiver). Without
 * this a test machine busy with other work makes the emulated IMU's FIFO overflow. */
#include <string.h>

#include "board.h"

#define CPU_HZ 25000000u
#define TICK_CYCLES (CPU_HZ / 4000u) /* the idle loop wakes at 4 kHz */
#ifndef EB_UART_BAUD
#define EB_UART_BAUD 921600u
#endif
#ifndef EB_UART_TX_FIFO
#define EB_UART_TX_FIFO 128u
#endif
#ifndef EB_STALL_US
#define EB_STALL_US 500u
#endif

#define REG(addr) (*(volatile uint32_t *)(addr))
#define UART_DATA REG(0x40004000u)
#define UART_STATE REG(0x40004004u) /* bit 0 TX full, bit 1 RX full */
#define UART_CTRL REG(0x40004008u)  /* bit 0 TX enable, bit 1 RX enable */
#define UART_BAUDDIV REG(0x40004010u)
#define TIMER0_CTRL REG(0x40000000u)
#define TIMER0_VALUE REG(0x40000004u)
#define TIMER0_RELOAD REG(0x40000008u)
#define SYST_CSR REG(0xE000E010u)
#define SYST_RVR REG(0xE000E014u)
#define SYST_CVR REG(0xE000E018u)

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
int main(void);

static uint32_t raw_last, board_now, behind; /* TIMER0's last count; the board's cycles; cycles cut out */
static uint32_t micros_last, cycles_left, micros_now; /* cycles not yet turned into whole microseconds */
static uint32_t tx_free_at, tx_frac; /* board cycle when the last queued byte will have left; baud remainder */
static uint32_t byte_cycles(void);

void SysTick_Handler(void) {} /* only wakes board_idle */

void Reset_Handler(void) {
    memcpy(&_sdata, &_sidata, (size_t)((char *)&_edata - (char *)&_sdata));
    memset(&_sbss, 0, (size_t)((char *)&_ebss - (char *)&_sbss));
    main();
    for (;;) {
    }
}

static void Default_Handler(void) {
    for (;;) {
    }
}

__attribute__((section(".isr_vector"), used)) static void (*const vectors[16])(void) = {
    (void (*)(void))&_estack, Reset_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler,
    Default_Handler, 0, 0, 0, 0, Default_Handler, Default_Handler, 0, Default_Handler, SysTick_Handler};

void board_init(void) {
    UART_BAUDDIV = CPU_HZ / EB_UART_BAUD; /* QEMU ignores it (board_write does the timing) but needs >= 16 */
    UART_CTRL = 0x3u;
    TIMER0_RELOAD = 0xFFFFFFFFu;
    TIMER0_VALUE = 0xFFFFFFFFu;
    TIMER0_CTRL = 0x1u;
    raw_last = ~TIMER0_VALUE;
    SYST_RVR = TICK_CYCLES - 1u;
    SYST_CVR = 0;
    SYST_CSR = 0x7u; /* processor clock, interrupt, enable */
}

/* The board's clock in cycles, modulo 2^32 (171 s), without the host's stalls (see the top of this file). */
static uint32_t cycles(void) {
    uint32_t raw = ~TIMER0_VALUE, d = raw - raw_last; /* TIMER0 counts down from 0xFFFFFFFF */
    if ((int32_t)d < 0) return board_now; /* a read a little behind the last one: time did not go back */
    raw_last = raw;
    if (EB_STALL_US && d > EB_STALL_US * (CPU_HZ / 1000000u)) { /* QEMU was not running: nor was the board */
        behind += d;
        d = 0;
    } else if (behind) { /* make the stall up, at 3x the host's clock */
        uint32_t extra = 2u * d < behind ? 2u * d : behind;
        d += extra;
        behind -= extra;
    }
    board_now += d;
    return board_now;
}

/* At START: stalls before it (boot, the host opening the port) are not made up afterwards. */
void board_clock_settle(void) {
    (void)cycles();
    behind = 0;
}

uint32_t board_micros(void) { /* must be called at least every 171 s (one timer wrap); the loop does, at 4 kHz */
    uint32_t now = cycles();
    cycles_left += now - micros_last;
    micros_last = now;
    micros_now += cycles_left / (CPU_HZ / 1000000u);
    cycles_left %= CPU_HZ / 1000000u;
    return micros_now;
}

int board_getc(void) { return (UART_STATE & 0x2u) ? (int)(UART_DATA & 0xFFu) : -1; }

/* 10 bits of 1 / baud, in cycles, the remainder carried to the next byte */
static uint32_t byte_cycles(void) {
    uint32_t n;
    tx_frac += 10u * CPU_HZ % EB_UART_BAUD;
    n = 10u * CPU_HZ / EB_UART_BAUD + tx_frac / EB_UART_BAUD;
    tx_frac %= EB_UART_BAUD;
    return n;
}

void board_write(const uint8_t *data, size_t len) {
    const uint32_t fifo_cycles = EB_UART_TX_FIFO * (10u * CPU_HZ / EB_UART_BAUD);
    for (size_t i = 0; i < len; i++) {
        uint32_t now = cycles();
        /* the FIFO is full while what is queued takes longer than EB_UART_TX_FIFO bytes to leave */
        while ((int32_t)(tx_free_at - now) > (int32_t)fifo_cycles) now = cycles();
        if ((int32_t)(tx_free_at - now) < 0) tx_free_at = now; /* an idle line starts this byte now */
        tx_free_at += byte_cycles();
        if (EB_STALL_US && (UART_STATE & 0x1u)) { /* QEMU's pty is full: the host is behind (a real UART would not wait) */
            uint32_t from;
            (void)cycles();
            from = raw_last;
            while (UART_STATE & 0x1u) {
            }
            raw_last = ~TIMER0_VALUE;
            behind += raw_last - from; /* cut out of the board's time like a stall */
        }
        UART_DATA = data[i];
    }
}

void board_idle(void) { __asm volatile("wfi"); }
