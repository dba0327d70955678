/* Board support for QEMU's mps2-an385 (Arm MPS2 FPGA image AN385: Cortex-M3 at 25 MHz, CMSDK APB UART0 at
 * 0x40004000 wired to QEMU's serial0). Vector table, reset, microsecond clock, UART.
 *
 * QEMU's UART sends a byte the moment it is written. A real one shifts 10 bits (8N1) at the baud rate, and
 * Serial.write blocks while it does, so board_write models that: a byte starts when the previous one has left
 * (or when written, on an idle line) and takes 10 / EB_UART_BAUD s of emulated time, measured on TIMER0's
 * 25 MHz count. A 1.6 KB thermal frame blocks the firmware for ~17 ms at 921600 baud, as on a real board.
 *
 * The clock reads the free-running CMSDK APB TIMER0 (25 MHz down-counter), whose value QEMU computes from its
 * virtual clock at each read; counting tick interrupts instead loses time whenever the host is busy and an
 * interrupt comes late (measured: 3 % slow on a loaded machine). SysTick only wakes the idle loop at 1 kHz. */
#include <string.h>

#include "board.h"

#define CPU_HZ 25000000u
#define TICK_CYCLES (CPU_HZ / 4000u) /* the idle loop wakes at 4 kHz */
#ifndef EB_UART_BAUD
#define EB_UART_BAUD 921600u
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

static uint32_t last_count, cycles_left; /* cycles not yet turned into whole microseconds */
static uint32_t micros_now;

static uint32_t tx_start, tx_len, tx_frac; /* TIMER0 cycle the last byte started, its length in cycles */

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
    last_count = TIMER0_VALUE;
    SYST_RVR = TICK_CYCLES - 1u;
    SYST_CVR = 0;
    SYST_CSR = 0x7u; /* processor clock, interrupt, enable */
}

uint32_t board_micros(void) { /* must be called at least every 171 s (one timer wrap); the loop does, at 1 kHz */
    uint32_t count = TIMER0_VALUE;
    cycles_left += last_count - count; /* down-counter: elapsed cycles, modulo 2^32 */
    last_count = count;
    micros_now += cycles_left / (CPU_HZ / 1000000u);
    cycles_left %= CPU_HZ / 1000000u;
    return micros_now;
}

int board_getc(void) { return (UART_STATE & 0x2u) ? (int)(UART_DATA & 0xFFu) : -1; }

/* TIMER0 counts down from 0xFFFFFFFF: elapsed cycles, modulo 2^32 (171 s) */
static uint32_t cycles(void) { return ~TIMER0_VALUE; }

void board_write(const uint8_t *data, size_t len) {
    for (size_t i = 0; i < len; i++) {
        uint32_t now, since;
        while ((uint32_t)(cycles() - tx_start) < tx_len) { /* the previous byte is still on the line */
        }
        now = cycles();
        since = now - tx_start;
        /* back to back: this byte starts when the last one ended (the polling above must not slow the baud) */
        tx_start = since < 2u * tx_len + 64u ? tx_start + tx_len : now;
        tx_frac += 10u * CPU_HZ % EB_UART_BAUD; /* 10 bits of 1 / baud each, in cycles with the remainder kept */
        tx_len = 10u * CPU_HZ / EB_UART_BAUD + tx_frac / EB_UART_BAUD;
        tx_frac %= EB_UART_BAUD;
        while (UART_STATE & 0x1u) {
        }
        UART_DATA = data[i];
    }
}

void board_idle(void) { __asm volatile("wfi"); }
