using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using EdgeProfile.Edge;
using EdgeProfile.Edge.Log;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Protocol;

namespace EdgeProfile.Bench.RetailModels;

/// <summary>
/// Online Retail into an edge the way a store system would feed it: one v1 JSON <c>purchase</c> event per invoice line
/// (the contract carries one product per event), published over MQTT (QoS 1) to an edge agent hosted in this process,
/// which validates, logs and computes features on its own writer. Lines without a CustomerID are skipped (nobody to
/// profile). InvoiceDate is the shop's local (UK) time and is read as UTC.
/// </summary>
internal static class RetailReplay
{
    public const string StoreId = "retail";

    /// <summary>One invoice line with a customer.</summary>
    public sealed record Line(string Invoice, int Index, string Sku, string Name, double Quantity, double Price, DateTime At, string Customer, string Country);

    /// <summary>Reads the data's lines that name a customer, in time order (file order within a time).</summary>
    public static List<Line> Read(string csvGz)
    {
        var lines = new List<Line>(400_000);
        using var file = File.OpenRead(csvGz);
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var reader = new StreamReader(gzip, Encoding.UTF8);
        var header = EdgeProfile.Knowledge.CsvLine.Split(reader.ReadLine() ?? throw new InvalidDataException($"{csvGz} is empty"));
        int Col(string name) => Array.IndexOf(header, name) is >= 0 and var i ? i : throw new InvalidDataException($"{csvGz}: no column {name}");
        int invoice = Col("InvoiceNo"), sku = Col("StockCode"), name = Col("Description"), quantity = Col("Quantity"),
            date = Col("InvoiceDate"), price = Col("UnitPrice"), customer = Col("CustomerID"), country = Col("Country");
        var perInvoice = new Dictionary<string, int>(StringComparer.Ordinal);
        string? text;
        while ((text = reader.ReadLine()) is not null)
        {
            var f = EdgeProfile.Knowledge.CsvLine.Split(text);
            if (f.Length != header.Length || f[customer].Length == 0)
            {
                continue;
            }

            var index = perInvoice.TryGetValue(f[invoice], out var n) ? n : 0;
            perInvoice[f[invoice]] = index + 1;
            lines.Add(new Line(
                f[invoice], index, f[sku], f[name].Trim(),
                double.Parse(f[quantity], CultureInfo.InvariantCulture),
                double.Parse(f[price], CultureInfo.InvariantCulture),
                DateTime.SpecifyKind(DateTime.ParseExact(f[date], "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture), DateTimeKind.Utc),
                f[customer].Split('.')[0],
                f[country]));
        }

        // Stable: List.Sort is not, so order by time then by position.
        return [.. lines.Select((l, i) => (l, i)).OrderBy(x => x.l.At).ThenBy(x => x.i).Select(x => x.l)];
    }

    /// <summary>The v1 JSON event of a line (contracts.md §1).</summary>
    public static byte[] ToEvent(Line line)
    {
        var amount = Math.Round(line.Quantity * line.Price, 2);
        var product = new JsonObject { ["sku"] = line.Sku, ["price"] = line.Price };
        if (line.Name.Length > 0)
        {
            product["name"] = line.Name;
        }

        var e = new JsonObject
        {
            ["eventId"] = $"{line.Invoice}-{line.Index}",
            ["type"] = "purchase",
            ["occurredAt"] = line.At.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture),
            ["storeId"] = StoreId,
            ["channel"] = "web",
            ["customer"] = new JsonObject { ["loyaltyId"] = line.Customer },
            ["product"] = product,
            ["quantity"] = line.Quantity,
            ["amount"] = amount,
            ["currency"] = "GBP",
            ["attributes"] = new JsonObject { ["invoice"] = line.Invoice, ["country"] = line.Country },
        };
        return Encoding.UTF8.GetBytes(e.ToJsonString());
    }

    /// <summary>What the edge reported after the replay.</summary>
    public sealed record Result(int Published, long Stored, long Duplicates, long DeadLettered, long Late, double Seconds);

    /// <summary>
    /// Starts an edge on <paramref name="dataDir"/>, publishes every line in time order from one MQTT connection
    /// (<paramref name="inFlight"/> unacknowledged at a time, so event time never runs backwards by more than the
    /// edge's out-of-orderness and no line becomes a late event) and stops it once every PUBACK is in.
    /// </summary>
    public static async Task<Result> RunAsync(string dataDir, IReadOnlyList<Line> lines, int inFlight)
    {
        string[] args =
        [
            $"--Edge:StoreId={StoreId}",
            $"--Edge:DataDir={dataDir}",
            $"--Edge:Mqtt:Port={FreePort()}",
            "--Edge:Http:Urls=http://127.0.0.1:0",
            // A replay of history: surviving a crash of this process is enough (no fsync per group commit).
            "--Edge:Log:Durability=process",
            "--Logging:LogLevel:Default=Warning",
        ];
        var watch = Stopwatch.StartNew();
        await using var app = EdgeApp.Build(args);
        await app.StartAsync();
        var port = app.Services.GetRequiredService<IOptions<EdgeOptions>>().Value.Mqtt.Port;
        var client = new MqttClientFactory().CreateMqttClient();
        await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithClientId("retail-replay").WithCleanSession().Build());
        using (client)
        {
            using var gate = new SemaphoreSlim(inFlight);
            var pending = new List<Task>(lines.Count);
            var topic = $"ep/v1/{StoreId}/events";
            for (var i = 0; i < lines.Count; i++)
            {
                await gate.WaitAsync();
                pending.Add(PublishAsync(client, topic, ToEvent(lines[i]), gate));
                if ((i + 1) % 100_000 == 0)
                {
                    Console.WriteLine($"  replay: {i + 1:N0} / {lines.Count:N0} lines published ({watch.Elapsed.TotalSeconds:F0} s)");
                }
            }

            await Task.WhenAll(pending);
            await client.DisconnectAsync();
        }

        var stats = app.Services.GetRequiredService<EdgeStats>();
        var result = new Result(lines.Count, stats.EventsStored, stats.DuplicatesIgnored, stats.DeadLettered, stats.LateEvents, watch.Elapsed.TotalSeconds);
        await app.StopAsync();
        return result;
    }

    private static async Task PublishAsync(IMqttClient client, string topic, byte[] payload, SemaphoreSlim gate)
    {
        try
        {
            var message = new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build();
            var result = await client.PublishAsync(message);
            if (!result.IsSuccess)
            {
                throw new InvalidOperationException($"publish failed: {result.ReasonCode}");
            }
        }
        finally
        {
            gate.Release();
        }
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    /// <summary>One RFC 4180 record on one line (the data has no line breaks inside fields).</summary>
}
