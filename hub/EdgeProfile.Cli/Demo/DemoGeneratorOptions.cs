namespace EdgeProfile.Cli.Demo;

/// <summary>Settings of <see cref="DemoEventGenerator"/>; the same values (including <see cref="Now"/>) give the same bytes.</summary>
public sealed class DemoGeneratorOptions
{
    /// <summary>Seed of <see cref="Random"/>. Default 42.</summary>
    public int Seed { get; set; } = 42;

    /// <summary>Size of the customer population. Default 2,000.</summary>
    public int Customers { get; set; } = 2000;

    /// <summary>Messages to produce in total (valid events, duplicates and malformed ones). Default 20,000.</summary>
    public int Events { get; set; } = 20_000;

    /// <summary>The sites events go to. Default <see cref="DemoSite.Defaults"/>.</summary>
    public IReadOnlyList<DemoSite> Sites { get; set; } = DemoSite.Defaults;

    /// <summary>The newest possible event time; no event is later. Default: the current time when the generator is created.</summary>
    public DateTimeOffset? Now { get; set; }

    /// <summary>How far back event times go. Default 30 days.</summary>
    public TimeSpan Span { get; set; } = TimeSpan.FromDays(30);

    /// <summary>Share of messages that are deliberately malformed (dead-lettered). Default 0.1 %.</summary>
    public double MalformedRate { get; set; } = 0.001;

    /// <summary>Share of valid events a device delivers late (a few hundred messages after their neighbours). Default 0.3 %.</summary>
    public double LateRate { get; set; } = 0.003;

    /// <summary>Share of messages that repeat an earlier event as a device retry would. Default 0.2 %.</summary>
    public double DuplicateRate { get; set; } = 0.002;
}
