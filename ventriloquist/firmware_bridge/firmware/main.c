/*
 * ventriloquist servo firmware for an ATmega328P board (Arduino Uno / Nano / Pro Mini, 16 MHz).
 * Bare avr-libc, no Arduino core needed: build with `python -m firmware_bridge.build avr`,
 * flash with avrdude (the Arduino bootloader works: -c arduino -b 115200).
 *
 * Serial 115200 8N1 carries the frames of protocol.h. Servos are driven either directly
 * (default: 8 channels on Arduino pins 2..9, pulses timed by Timer1 like the Servo library)
 * or, built with -DVQ_PCA9685, by a PCA9685 on I2C (address 0x40, 16 channels, 50 Hz).
 * Failsafe: no valid frame for 250 ms -> every servo to its neutral; the AVR watchdog
 * resets a hung board, which also starts at neutral.
 */
#include <avr/interrupt.h>
#include <avr/io.h>
#include <avr/wdt.h>
#include <stdint.h>

#include "protocol.h"

#ifndef F_CPU
#define F_CPU 16000000UL
#endif
#define BAUD 115200UL
#define UBRR_VALUE ((F_CPU / (8UL * BAUD)) - 1UL) /* U2X: 2.1 % error at 16 MHz */
#define RX_BUFFER 64u                             /* power of two */
#define NEUTRAL_QUS 6000u                         /* 1500 us until the host sets neutrals */

static volatile uint8_t rx_buf[RX_BUFFER];
static volatile uint8_t rx_head;
static uint8_t rx_tail;
static volatile uint32_t now_ms;
static vq_device_t dev;

ISR(USART_RX_vect)
{
    uint8_t byte = UDR0;
    uint8_t next = (uint8_t)((rx_head + 1u) & (RX_BUFFER - 1u));
    if (next != rx_tail) { /* full: drop the byte; the CRC rejects the frame */
        rx_buf[rx_head] = byte;
        rx_head = next;
    }
}

ISR(TIMER0_COMPA_vect)
{
    now_ms++;
}

static uint32_t millis(void)
{
    uint32_t t;
    uint8_t sreg = SREG;
    cli();
    t = now_ms;
    SREG = sreg;
    return t;
}

static void uart_init(void)
{
    UBRR0H = (uint8_t)(UBRR_VALUE >> 8);
    UBRR0L = (uint8_t)UBRR_VALUE;
    UCSR0A = _BV(U2X0);
    UCSR0B = _BV(RXEN0) | _BV(TXEN0) | _BV(RXCIE0);
    UCSR0C = _BV(UCSZ01) | _BV(UCSZ00);
}

static void uart_write(const uint8_t *data, uint8_t n)
{
    uint8_t i;
    for (i = 0; i < n; i++) {
        loop_until_bit_is_set(UCSR0A, UDRE0);
        UDR0 = data[i];
    }
}

static void clock_init(void)
{
    TCCR0A = _BV(WGM01);            /* CTC */
    TCCR0B = _BV(CS01) | _BV(CS00); /* /64: 250 kHz */
    OCR0A = 249;                    /* 1 kHz */
    TIMSK0 = _BV(OCIE0A);
}

#ifdef VQ_PCA9685
#define SERVO_CHANNELS 16u
#define PCA_ADDR 0x40u
#define PCA_PRESCALE 121u /* 25 MHz / (4096 * 50 Hz) - 1 */

static void twi_wait(void)
{
    loop_until_bit_is_set(TWCR, TWINT);
}

static void pca_write(uint8_t reg, const uint8_t *data, uint8_t n)
{
    uint8_t i;
    TWCR = _BV(TWINT) | _BV(TWSTA) | _BV(TWEN);
    twi_wait();
    TWDR = (uint8_t)(PCA_ADDR << 1);
    TWCR = _BV(TWINT) | _BV(TWEN);
    twi_wait();
    TWDR = reg;
    TWCR = _BV(TWINT) | _BV(TWEN);
    twi_wait();
    for (i = 0; i < n; i++) {
        TWDR = data[i];
        TWCR = _BV(TWINT) | _BV(TWEN);
        twi_wait();
    }
    TWCR = _BV(TWINT) | _BV(TWSTO) | _BV(TWEN);
}

static void servos_init(void)
{
    uint8_t sleep = 0x10u, prescale = PCA_PRESCALE, wake = 0x20u; /* MODE1: SLEEP, then AI */
    TWSR = 0;
    TWBR = (uint8_t)((F_CPU / 400000UL - 16UL) / 2UL); /* 400 kHz */
    pca_write(0x00u, &sleep, 1);
    pca_write(0xFEu, &prescale, 1);
    pca_write(0x00u, &wake, 1);
}

static void servos_apply(void)
{
    uint8_t ch, regs[4];
    uint32_t counts;
    for (ch = 0; ch < SERVO_CHANNELS; ch++) {
        /* 4096 counts per 20 ms; full-off bit (0x10 in OFF_H) for a relaxed servo */
        counts = ((uint32_t)dev.target_qus[ch] * 4096UL) / 80000UL;
        regs[0] = 0;
        regs[1] = 0;
        regs[2] = (uint8_t)(counts & 0xFFu);
        regs[3] = dev.target_qus[ch] == 0u ? 0x10u : (uint8_t)(counts >> 8);
        pca_write((uint8_t)(0x06u + 4u * ch), regs, 4);
    }
}
#else
#define SERVO_CHANNELS 8u
#define FRAME_TICKS 40000u  /* 20 ms in 0.5 us ticks */
#define MIN_GAP_TICKS 1000u /* 8 long pulses may exceed 20 ms: then the frame stretches */

static volatile uint16_t pulse_ticks[SERVO_CHANNELS];
static volatile uint8_t slot;

static void pin_write(uint8_t ch, uint8_t high)
{
    /* channels 0..5 -> PD2..PD7 (pins 2..7), 6..7 -> PB0..PB1 (pins 8..9) */
    volatile uint8_t *port = ch < 6u ? &PORTD : &PORTB;
    uint8_t mask = ch < 6u ? (uint8_t)_BV(ch + 2u) : (uint8_t)_BV(ch - 6u);
    if (high) {
        *port |= mask;
    } else {
        *port &= (uint8_t)~mask;
    }
}

/* One compare match per slot: end the previous pulse, start the next, then a gap to 20 ms. */
ISR(TIMER1_COMPA_vect)
{
    static uint16_t used;
    uint16_t width;
    if (slot > 0u) {
        pin_write((uint8_t)(slot - 1u), 0);
    }
    if (slot < SERVO_CHANNELS) {
        width = pulse_ticks[slot];
        if (width != 0u) {
            pin_write(slot, 1);
        } else {
            width = 200u; /* relaxed: a 100 us empty slot */
        }
        OCR1A = width;
        used = (uint16_t)(used + width);
        slot++;
    } else {
        OCR1A = used < FRAME_TICKS - MIN_GAP_TICKS ? (uint16_t)(FRAME_TICKS - used) : MIN_GAP_TICKS;
        used = 0;
        slot = 0;
    }
    TCNT1 = 0;
}

static void servos_init(void)
{
    DDRD |= 0xFCu;
    DDRB |= 0x03u;
    TCCR1A = 0;
    TCCR1B = _BV(WGM12) | _BV(CS11); /* CTC on OCR1A, /8: 0.5 us ticks */
    OCR1A = 1000u;
    TIMSK1 = _BV(OCIE1A);
}

static void servos_apply(void)
{
    uint8_t ch;
    uint8_t sreg = SREG;
    cli();
    for (ch = 0; ch < SERVO_CHANNELS; ch++) {
        pulse_ticks[ch] = (uint16_t)(dev.target_qus[ch] / 2u);
    }
    SREG = sreg;
}
#endif

int main(void)
{
    uint8_t status[VQ_MAX_FRAME];
    uint8_t byte, event;

    wdt_enable(WDTO_120MS);
    vq_device_init(&dev, SERVO_CHANNELS, NEUTRAL_QUS, 0);
    uart_init();
    clock_init();
    servos_init();
    servos_apply();
    sei();
    for (;;) {
        wdt_reset();
        while (rx_tail != rx_head) {
            byte = rx_buf[rx_tail];
            rx_tail = (uint8_t)((rx_tail + 1u) & (RX_BUFFER - 1u));
            event = vq_device_feed(&dev, byte, millis());
            if (event == VQ_EVENT_PING || event == VQ_EVENT_NEUTRAL) {
                uart_write(status, (uint8_t)vq_build_status(&dev, status));
            }
            if (event != VQ_EVENT_NONE && event != VQ_EVENT_BAD) {
                servos_apply(); /* a re-parse may have applied targets alongside a PING */
            }
        }
        if (vq_device_tick(&dev, millis())) {
            servos_apply();
        }
    }
}
