namespace EdgeProfile.Cli.Demo;

/// <summary>What <c>edgeprofile demo</c> runs.</summary>
public sealed class DemoSettings
{
    /// <summary>Physical stores (store-001...); the online/CDN edge cdn-001 comes on top.</summary>
    public int Stores { get; set; } = 3;

    /// <summary>Customers in the simulation.</summary>
    public int Customers { get; set; } = 2000;

    /// <summary>Messages published in total.</summary>
    public int Events { get; set; } = 20_000;

    /// <summary>Seed of the simulation.</summary>
    public int Seed { get; set; } = 42;

    /// <summary>Where the hub's and the edges' data live; wiped at start unless <see cref="Resume"/>.</summary>
    public string DataDir { get; set; } = ".demo";

    /// <summary>Keep the data dir (and the enrollments in it) from the last run.</summary>
    public bool Resume { get; set; }

    /// <summary>Keep the hub and edges running after the summary until Ctrl-C.</summary>
    public bool KeepRunning { get; set; }

    /// <summary>The hub's HTTP/gRPC port on 127.0.0.1 (0 = any free port).</summary>
    public int HubPort { get; set; } = 8080;

    /// <summary>The operator web UI's port on 127.0.0.1 (0 = any free port; -1 = no UI).</summary>
    public int UiPort { get; set; } = 8070;

    /// <summary>The first edge's embedded MQTT port; the others follow (0 = any free ports).</summary>
    public int MqttBasePort { get; set; } = 1883;

    /// <summary>The first edge's HTTP API port; the others follow (0 = any free ports).</summary>
    public int HttpBasePort { get; set; } = 8081;

    /// <summary>How long to wait for the edges to upload everything to the hub.</summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromMinutes(2);
}
