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

    /// <summary>
    /// How far behind the watermark an event may be and still update its windows (re-emitting them). Later events go
    /// to the late side output: stored in the log and the <c>late_events</c> table, counted, but not in features.
    /// </summary>
    public TimeSpan AllowedLateness { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Stream engine settings (<c>Edge:Stream</c>).</summary>
    public StreamSettings Stream { get; set; } = new();

    /// <summary>Feature store settings (<c>Edge:Features</c>).</summary>
    public FeatureSettings Features { get; set; } = new();

    /// <summary>On-edge model scoring (<c>Edge:Models</c>); off unless a model file is configured.</summary>
    public ModelSettings Models { get; set; } = new();

    /// <summary><c>Edge:Recommendations</c>: next-item recommendations from a recommender bundle.</summary>
    public RecommendationSettings Recommendations { get; set; } = new();

    /// <summary>Federated training with the hub (<c>Edge:Federation</c>).</summary>
    public FederationSettings Federation { get; set; } = new();

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

    /// <summary>
    /// <c>Edge:Identity</c>: identifiers that never tie customers together at this store, in the hub's format
    /// (<c>Hub:Identity</c>); at the edge only the blocked keys and values apply (the hub enforces the limits).
    /// </summary>
    public EdgeProfile.Core.Identity.IdentityRules Identity { get; set; } = new();

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

        /// <summary>
        /// Size the write-ahead log grows to before it is started over (MiB; the file keeps this size on disk). Each
        /// start-over holds the log writer back for tens of milliseconds, so a larger log trades disk for fewer such
        /// pauses: at 5,000 events/s the log grows by ~70 MB a second (bench-features).
        /// </summary>
        public int WalMb { get; set; } = 512;
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

    /// <summary><c>Edge:Stream</c>: event-time watermarks.</summary>
    public sealed class StreamSettings
    {
        /// <summary>How far out of order a source's events may arrive: its watermark trails its newest event time by this.</summary>
        public TimeSpan MaxOutOfOrderness { get; set; } = TimeSpan.FromSeconds(5);

        /// <summary>Per-source overrides of <see cref="MaxOutOfOrderness"/>, keyed by channel (e.g. <c>pos</c> that batches offline sales).</summary>
        public Dictionary<string, TimeSpan> SourceOutOfOrderness { get; set; } = new(StringComparer.Ordinal);

        /// <summary>A source whose newest event is this far (event time) behind the newest of any source stops holding the watermark back.</summary>
        public TimeSpan SourceIdleTimeout { get; set; } = TimeSpan.FromHours(1);
    }

    /// <summary><c>Edge:Features</c>: the online feature store.</summary>
    public sealed class FeatureSettings
    {
        /// <summary>A feature-set JSON file served until a hub publishes definitions (empty: the built-in defaults).</summary>
        public string DefinitionsFile { get; set; } = "";

        /// <summary>
        /// Customers whose live feature state the writer keeps in memory; past this a checkpoint is written and the
        /// memory starts over (the others are read from their checkpoint).
        /// </summary>
        public int MemoryCustomers { get; set; } = 20_000;

        /// <summary>
        /// About how long after it changed a customer's feature state is checkpointed (spread over the batches, the
        /// longest-changed first). After a crash the events newer than the checkpoints are replayed from the log at start.
        /// </summary>
        public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromSeconds(5);

        /// <summary>Customers re-computed per writer turn while a new definition is backfilled from the log.</summary>
        public int BackfillBatch { get; set; } = 500;
    }

    /// <summary><c>Edge:Federation</c>: taking part in the hub's federated training jobs on this store's own log.</summary>
    public sealed class FederationSettings
    {
        /// <summary>Whether this store joins federated jobs when it has a hub (default true).</summary>
        public bool Enabled { get; set; } = true;

        /// <summary>Threads local training may use (default 1, so ingest keeps a core on a two-core box).</summary>
        public int Threads { get; set; } = 1;
    }

    /// <summary><c>Edge:Models</c>: scoring customers on the edge from their online features.</summary>
    public sealed class ModelSettings
    {
        /// <summary>
        /// An ONNX model written by <c>OnnxExporter</c> whose metadata lists the (numeric, online) features it takes,
        /// served from the start (until the hub assigns another). Empty (default): no model until the hub assigns one.
        /// </summary>
        public string File { get; set; } = "";

        /// <summary>
        /// Follow the hub's model registry (default true): an enrolled edge serves the model the hub assigns to it,
        /// after a canary. False: only <see cref="File"/>, if any.
        /// </summary>
        public bool FromHub { get; set; } = true;

        /// <summary>
        /// Customers in the local holdout a candidate model is checked on (0: no holdout). Default 1000: the most
        /// recently active customers as of a cutoff the labels' horizons back, point-in-time from this store's log.
        /// </summary>
        public int HoldoutRows { get; set; } = 1000;

        /// <summary>Fewest holdout customers worth an AUC (fewer: the check is skipped and the report says so). Default 100.</summary>
        public int HoldoutMinRows { get; set; } = 100;

        /// <summary>
        /// Scores older than this are redone even without events, since features change with time alone (windows
        /// slide, values outlive their TTL). Default 1 hour; 0 turns it off.
        /// </summary>
        public TimeSpan RescoreAfter { get; set; } = TimeSpan.FromHours(1);

        /// <summary>Largest AUC drop on the holdout (serving − candidate, per binary task) a candidate may show. Default 0.01.</summary>
        public double MaxAucDrop { get; set; } = 0.01;

        /// <summary>True when a model file is configured.</summary>
        public bool Enabled => !string.IsNullOrWhiteSpace(File);

        /// <summary><c>Edge:Models:Explanations</c>: why each score is what it is, stored with it.</summary>
        public ExplanationSettings Explanations { get; set; } = new();
    }

    /// <summary><c>Edge:Models:Explanations</c>.</summary>
    public sealed class ExplanationSettings
    {
        /// <summary>Explain every score as it is written (default true): attributions per feature group, the top reasons
        /// in English and Chinese, kept with the score and in the decision history.</summary>
        public bool Enabled { get; set; } = true;

        /// <summary>Background rows the expectations are taken over, of those the model ships (default 16; 1–256).
        /// Cost grows linearly with it.</summary>
        public int BackgroundRows { get; set; } = 16;

        /// <summary>Reasons kept per task (default 3; 1–10).</summary>
        public int TopReasons { get; set; } = 3;

        /// <summary>How long past decisions (scores with their explanations) are kept for audits (default 90 days; 0 keeps
        /// only each customer's latest).</summary>
        public TimeSpan RetainDecisions { get; set; } = TimeSpan.FromDays(90);
    }

    /// <summary><c>Edge:Recommendations</c>.</summary>
    public sealed class RecommendationSettings
    {
        /// <summary>A recommender bundle file (<c>edgeprofile recommenders build</c>) served from the start, until the hub
        /// publishes one. Empty (default): none until the hub publishes.</summary>
        public string Bundle { get; set; } = "";

        /// <summary>Follow the hub's published recommender (default true).</summary>
        public bool FromHub { get; set; } = true;

        /// <summary>Most new products (no interactions yet, recommended for their names) per list (default 3; 0–100).</summary>
        public int ColdSlots { get; set; } = 3;

        /// <summary>Cosine a new product's name needs with the customer's recent products' names (−1–1). Default: the bar
        /// the bundle was calibrated with when built (what only 5 % of random product pairs reach).</summary>
        public double? MinColdSimilarity { get; set; }
    }

    /// <summary><c>Edge:DeadLetters</c>.</summary>
    public sealed class DeadLetterSettings
    {
        /// <summary>Most dead letters kept; the oldest go first.</summary>
        public int MaxCount { get; set; } = 10_000;
    }
}
