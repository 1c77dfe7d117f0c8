package dev.trainwatch.alerts.dispatch;

/**
 * The Kafka record an alert change came from; its offset is committed once the change is notified.
 */
public record SourceOffset(String topic, int partition, long offset) {}
