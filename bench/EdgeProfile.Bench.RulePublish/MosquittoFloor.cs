using System.Diagnostics;
using System.Globalization;
using MQTTnet;
using MQTTnet.Protocol;

namespace EdgeProfile.Bench.RulePublish;

/// <summary>
/// The transport floor: mosquitto delivering the same rule file once to as many subscribers as there are stores
/// (QoS 1), timed from the publish call to the last subscriber's receipt; median of as many rounds as publishes.
/// </summary>
internal static class MosquittoFloor
{
    public static async Task<double?> MeasureAsync(Settings settings, byte[] payload)
    {
        if (!File.Exists(settings.Mosquitto))
        {
            return null;
        }

        var port = Child.FreePort();
        var conf = Path.Combine(Path.GetTempPath(), $"ep-bench-rule-publish-mosq-{port}.conf");
        await File.WriteAllTextAsync(conf, $"listener {port.ToString(CultureInfo.InvariantCulture)} 127.0.0.1\nallow_anonymous true\npersistence false\n");
        await using var broker = Child.Start("mosquitto", settings.Mosquitto, ["-c", conf]);
        var subscribers = new List<IMqttClient>();
        try
        {
            await Task.Delay(300);
            var received = new int[1];
            var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            for (var i = 0; i < settings.Edges; i++)
            {
                var client = new MqttClientFactory().CreateMqttClient();
                await Connect(client, port, $"sub-{i}");
                client.ApplicationMessageReceivedAsync += _ =>
                {
                    if (Interlocked.Increment(ref received[0]) == settings.Edges)
                    {
                        all.TrySetResult();
                    }

                    return Task.CompletedTask;
                };
                await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter("ep/v1/rules", MqttQualityOfServiceLevel.AtLeastOnce).Build());
                subscribers.Add(client);
            }

            using var publisher = new MqttClientFactory().CreateMqttClient();
            await Connect(publisher, port, "publisher");
            var times = new List<double>();
            for (var round = 0; round < settings.Publishes + 1; round++)
            {
                received[0] = 0;
                all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                var watch = Stopwatch.StartNew();
                await publisher.PublishAsync(new MqttApplicationMessageBuilder().WithTopic("ep/v1/rules").WithPayload(payload).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
                await all.Task.WaitAsync(TimeSpan.FromSeconds(30));
                if (round > 0)
                {
                    times.Add(watch.Elapsed.TotalMilliseconds);
                }

                await Task.Delay(50);
            }

            times.Sort();
            return times[times.Count / 2];
        }
        finally
        {
            foreach (var s in subscribers)
            {
                s.Dispose();
            }

            File.Delete(conf);
        }
    }

    private static Task Connect(IMqttClient client, int port, string id) =>
        client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithClientId(id).WithTimeout(TimeSpan.FromSeconds(10)).Build());
}
