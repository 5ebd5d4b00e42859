/* SPDX-License-Identifier: MIT */
/*
 * stress.h - what the ring stress programs (stress_run, stress_writer,
 * stress_reader) agree on: the end marker and the line protocol on their pipes.
 *
 * The writer prints "ready" once the ring exists and starts on "go" from
 * stdin, so every reader is attached at position 0 before the first record.
 * It ends with one META record of kind STRESS_END_FLAGS, which nothing
 * overwrites, so every reader sees the end and the writer's final sequence.
 */
#ifndef RAWCAP_TEST_STRESS_H
#define RAWCAP_TEST_STRESS_H

#define STRESS_END_FLAGS 0xe7d
#define STRESS_RING_SIZE (16u << 20)

#endif
