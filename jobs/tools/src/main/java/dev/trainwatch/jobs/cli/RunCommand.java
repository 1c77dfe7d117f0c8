package dev.trainwatch.jobs.cli;

import dev.trainwatch.jobs.flink.JobConfig;
import dev.trainwatch.jobs.flink.TrainwatchJob;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code trainwatch run}: production mode. Runs the detection job against an external Kafka cluster
 * on a local Flink runtime in this JVM; the same jar submits to a Flink cluster with {@code flink
 * run -c TrainwatchJob}.
 */
@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    description = "Run the detection job against external Kafka (production mode).")
final class RunCommand implements Callable<Integer> {

  @Option(names = "--config", description = "job properties file (keys: see JobConfig / README)")
  Path config;

  @Option(names = "--set", description = "override key=value (repeatable)")
  Map<String, String> overrides = new HashMap<>();

  @Override
  public Integer call() throws Exception {
    JobConfig c = JobConfig.load(config, System.getenv(), overrides); // ConfigException: exit 2
    StreamExecutionEnvironment env =
        TrainwatchJob.localEnvironment(c); // loopback only, durable checkpoints
    var storage =
        TrainwatchJob.assemble(env, c, System.getenv()); // topics ensured, storage attached
    System.err.printf(
        "trainwatch: detection job '%s' reading %s from %s; storage: %s%n",
        c.get("job.name"),
        c.topics().telemetry(),
        c.bootstrapServers(),
        storage
            .map(s -> "InfluxDB " + s.url() + " database " + s.database())
            .orElse("none (set influx.url)"));
    env.execute(c.get("job.name"));
    return 0;
  }
}
