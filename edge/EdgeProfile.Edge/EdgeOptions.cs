namespace EdgeProfile.Edge;

/// <summary>The <c>Edge</c> configuration section (contracts.md §5).</summary>
public sealed class EdgeOptions
{
    /// <summary>The section name.</summary>
    public const string Section = "Edge";

    /// <summary>This store's id (required): the {storeId} of its topics and its identity at the hub.</summary>
    public string StoreId { get; set; } = "";

    /// <summary>Where the event log, profiles, outbox and credentials live. Default <c>./data/edge-{StoreId}</c>.</summary>
    public string DataDir { get; set; } = "";

    /// <summary>The hub's gRPC address; empty runs the edge standalone (no uplink).</summary>
    public string HubUrl { get; set; } = "";

    /// <summary>One-time token from <c>edgeprofile enroll create</c>, needed once, on the first start with a hub.</summary>
    public string EnrollmentToken { get; set; } = "";

    /// <summary>How long the first start may wait for the hub to accept the enrollment.</summary>
    public TimeSpan EnrollTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Events further in the future than this are rejected.</summary>
    public TimeSpan MaxClockSkew { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Events older than the store's newest event time by more than this count as late (they still apply).</summary>
    public TimeSpan AllowedLateness { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Base64 key (≥ 16 bytes) for pseudonymising identifiers. Normally empty: the hub hands out the organisation's
    /// key at enrollment, and a standalone edge generates one in its data dir.
    /// </summary>
    public string PseudonymKey { get; set; } = "";

    /// <summary>MQTT settings.</summary>
    public MqttSettings Mqtt { get; set; } = new();

    /// <summary>Local HTTP API settings.</summary>
    public HttpSettings Http { get; set; } = new();

    /// <summary>Event log settings.</summary>
    public LogSettings Log { get; set; } = new();

    /// <summary>Uplink settings.</summary>
    public UplinkSettings Uplink { get; set; } = new();

    /// <summary>Dead-letter store settings.</summary>
    public DeadLetterSettings DeadLetters { get; set; } = new();

    /// <summary>The data directory after defaults.</summary>
    public string ResolvedDataDir => string.IsNullOrWhiteSpace(DataDir) ? Path.Combine("data", "edge-" + StoreId) : DataDir;

    /// <summary><c>Edge:Mqtt</c>.</summary>
    public sealed class MqttSettings
    {
        /// <summary><c>embedded</c> (default): run MQTTnet's broker in the agent; <c>external</c>: subscribe to a broker.</summary>
        public string Mode { get; set; } = "embedded";

        /// <summary>External broker host (external mode).</summary>
        public string Host { get; set; } = "127.0.0.1";

        /// <summary>Broker port: the embedded broker listens here, or the external broker's port.</summary>
        public int Port { get; set; } = 1883;

        /// <summary>Address the embedded broker binds; use 0.0.0.0 to accept store devices on the LAN.</summary>
        public string Bind { get; set; } = "127.0.0.1";

        /// <summary>Client id of the persistent session (external mode). Default <c>edgeprofile-edge-{StoreId}</c>.</summary>
        public string ClientId { get; set; } = "";

        /// <summary>External broker user name, if it needs one.</summary>
        public string Username { get; set; } = "";

        /// <summary>External broker password, if it needs one.</summary>
        public string Password { get; set; } = "";

        /// <summary>
        /// Messages the embedded broker may queue for one subscriber before it must drop one. MQTTnet's default
        /// (250, drop oldest) loses data silently; ingest itself never queues here.
        /// </summary>
        public int MaxPendingPerClient { get; set; } = 100_000;

        /// <summary>True in external mode.</summary>
        public bool IsExternal => string.Equals(Mode, "external", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary><c>Edge:Http</c>.</summary>
    public sealed class HttpSettings
    {
        /// <summary>Where the local API listens.</summary>
        public string Urls { get; set; } = "http://127.0.0.1:8081";
    }

    /// <summary><c>Edge:Log</c>.</summary>
    public sealed class LogSettings
    {
        /// <summary>
        /// <c>fsync</c> (default): an acknowledged event survives power loss (SQLite synchronous=FULL).
        /// <c>process</c>: it survives a crash of the agent but not of the machine (synchronous=NORMAL).
        /// </summary>
        public string Durability { get; set; } = "fsync";

        /// <summary>Most messages committed in one transaction (group commit).</summary>
        public int MaxBatch { get; set; } = 2048;

        /// <summary>Messages that may wait for the writer before publishers are slowed down.</summary>
        public int QueueCapacity { get; set; } = 65_536;
    }

    /// <summary><c>Edge:Uplink</c>.</summary>
    public sealed class UplinkSettings
    {
        /// <summary>Deltas per upload call.</summary>
        public int BatchSize { get; set; } = 1000;

        /// <summary>
        /// Disk the outbox may use while the hub is unreachable. When full the edge keeps ingesting and keeps local
        /// profiles live, remembers which customers changed, and sends their latest state once there is room.
        /// </summary>
        public long DiskBudgetMb { get; set; } = 1024;

        /// <summary>Longest wait between reconnection attempts.</summary>
        public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(5);
    }

    /// <summary><c>Edge:DeadLetters</c>.</summary>
    public sealed class DeadLetterSettings
    {
        /// <summary>Most dead letters kept; the oldest go first.</summary>
        public int MaxCount { get; set; } = 10_000;
    }
}
