package dev.trainwatch.jobs.flink;

/**
 * One telemetry message as read from Kafka, not yet parsed: the bytes and where they came
 * from (named in dead letters). A record of a byte array and primitives, so Flink moves it
 * with its POJO serializer.
 */
public record RawTelemetry(byte[] value, String origin) {}
