/* Board support for the ATmega328P (Arduino Uno class, 16 MHz), as simavr emulates it: USART0 at 500 kbaud with
 * an interrupt-fed receive ring (the hardware holds only two bytes), Timer1 at 2 MHz as the microsecond clock,
 * Timer0 waking the idle loop at 1 kHz. */
#include <avr/interrupt.h>
#include <avr/io.h>
#include <avr/sleep.h>

#include "board.h"

static volatile uint32_t t1_overflows; /* Timer1 wraps every 32768 us */
static volatile uint8_t rx_ring[32], rx_head, rx_tail;

ISR(TIMER1_OVF_vect) { t1_overflows++; }
ISR(TIMER0_COMPA_vect) {} /* only wakes board_idle */
ISR(USART_RX_vect) {
    uint8_t next = (uint8_t)((rx_head + 1u) % sizeof rx_ring);
    uint8_t byte = UDR0;
    if (next != rx_tail) { /* full: the byte is lost; the host resends commands it gets no answer to */
        rx_ring[rx_head] = byte;
        rx_head = next;
    }
}

void board_init(void) {
    UCSR0A = (uint8_t)(1u << U2X0);
    UBRR0 = 3; /* 16 MHz / (8 * (3 + 1)) = 500 kbaud exactly */
    UCSR0C = (uint8_t)((1u << UCSZ01) | (1u << UCSZ00)); /* 8N1 */
    UCSR0B = (uint8_t)((1u << RXEN0) | (1u << TXEN0) | (1u << RXCIE0));
    TCCR1A = 0;
    TCCR1B = (uint8_t)(1u << CS11); /* /8: 2 MHz */
    TIMSK1 = (uint8_t)(1u << TOIE1);
    TCCR0A = (uint8_t)(1u << WGM01); /* CTC */
    OCR0A = 249;                      /* 16 MHz / 64 / 250 = 1 kHz */
    TCCR0B = (uint8_t)((1u << CS01) | (1u << CS00));
    TIMSK0 = (uint8_t)(1u << OCIE0A);
    sei();
}

uint32_t board_micros(void) {
    uint8_t sreg = SREG;
    uint32_t ov;
    uint16_t count;
    cli();
    ov = t1_overflows;
    count = TCNT1;
    if ((TIFR1 & (1u << TOV1)) && count < 0x8000u) ov++; /* wrapped, interrupt not yet served */
    SREG = sreg;
    return ov * 32768u + count / 2u;
}

int board_getc(void) {
    int c = -1;
    uint8_t sreg = SREG;
    cli();
    if (rx_tail != rx_head) {
        c = rx_ring[rx_tail];
        rx_tail = (uint8_t)((rx_tail + 1u) % sizeof rx_ring);
    }
    SREG = sreg;
    return c;
}

void board_write(const uint8_t *data, size_t len) {
    for (size_t i = 0; i < len; i++) {
        while (!(UCSR0A & (1u << UDRE0))) {
        }
        UDR0 = data[i];
    }
}

void board_idle(void) {
    set_sleep_mode(SLEEP_MODE_IDLE);
    sleep_mode();
}

void board_clock_settle(void) {} /* simavr's clock is its own: no host stall shows in it */
