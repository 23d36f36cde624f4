namespace EdgeProfile.Hub;

/// <summary>The hub's settings, section <c>Hub</c> (contracts.md §5).</summary>
public sealed class HubOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Hub";

    /// <summary>The storage the hub ships with.</summary>
    public const string SqliteStorage = "sqlite";

    /// <summary>PostgreSQL, for several hub replicas on one database (<see cref="ConnectionString"/>).</summary>
    public const string PostgresStorage = "postgres";

    /// <summary>File name, inside <see cref="DataDir"/>, of the generated operator token.</summary>
    public const string OperatorTokenFileName = "operator.token";

    /// <summary>File name, inside <see cref="DataDir"/>, of the organisation's pseudonymisation key.</summary>
    public const string PseudonymKeyFileName = "pseudonym.key";

    /// <summary>File name, inside <see cref="DataDir"/>, of the SQLite database.</summary>
    public const string DatabaseFileName = "hub.db";

    /// <summary>Directory for the database and the hub's secrets. Default <c>./data/hub</c>, relative to the working directory.</summary>
    public string DataDir { get; set; } = "./data/hub";

    /// <summary><c>sqlite</c> (default: <c>{DataDir}/hub.db</c>) or <c>postgres</c> (<see cref="ConnectionString"/>).</summary>
    public string Storage { get; set; } = SqliteStorage;

    /// <summary>
    /// The Npgsql connection string when <see cref="Storage"/> is <c>postgres</c>, e.g.
    /// <c>Host=db;Database=edgeprofile;Username=hub;Password=...</c> (<c>Search Path=</c> picks a schema).
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>
    /// The operator's bearer token for the REST API. When empty, the hub generates one at first start, keeps it in
    /// <c>{DataDir}/operator.token</c> (mode 0600) and reuses it afterwards.
    /// </summary>
    public string? OperatorToken { get; set; }

    /// <summary>How long a one-time enrollment token stays valid. Default 24 hours.</summary>
    public TimeSpan EnrollmentTokenTtl { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Profile answers kept in memory for <c>GET /api/profiles/{key}</c> (0: no cache). Default 200,000.</summary>
    public int ProfileCacheEntries { get; set; } = 200_000;

    /// <summary>
    /// How stores' views combine into the global profile, section <c>Hub:Profiles:Merge</c>: field → policy
    /// (<c>visits_7d</c>, <c>visits_30d</c>, <c>spend_7d</c>, <c>spend_30d</c>: sum | max | min | latest; <c>last_category</c>:
    /// latest | first). Unlisted fields: sum, and latest for the category.
    /// </summary>
    public ProfileSettings Profiles { get; set; } = new();

    /// <summary>Identity resolution rules, section <c>Hub:Identity</c>: blocked keys and values, per-kind limits, priority.</summary>
    public EdgeProfile.Core.Identity.IdentityRules Identity { get; set; } = new();

    /// <summary>The operator web UI, section <c>Hub:Ui</c>.</summary>
    public UiSettings Ui { get; set; } = new();

    /// <summary>Settings of the operator web UI.</summary>
    public sealed class UiSettings
    {
        /// <summary>
        /// Where the UI listens (its own port on the hub's Kestrel), e.g. <c>http://127.0.0.1:8070</c>; port 0 takes any
        /// free port. Empty (the default of a bare host): no UI. <c>edgeprofile-hub</c>'s appsettings.json and the demo
        /// turn it on.
        /// </summary>
        public string? Url { get; set; }

        /// <summary>Send the sign-in and antiforgery cookies only over HTTPS (always on behind a TLS proxy). Default: as the request.</summary>
        public bool SecureCookies { get; set; }

        /// <summary>How long a sign-in lasts without activity (sliding). Default 8 hours.</summary>
        public TimeSpan SessionTimeout { get; set; } = TimeSpan.FromHours(8);
    }

    /// <summary>Settings of the global profiles.</summary>
    public sealed class ProfileSettings
    {
        /// <summary>Merge policy per field.</summary>
        public Dictionary<string, string> Merge { get; set; } = new(StringComparer.Ordinal);
    }

    /// <summary>Binding errors found while reading the section; reported by the validator with their keys.</summary>
    internal List<string> BindingErrors { get; } = [];
}
