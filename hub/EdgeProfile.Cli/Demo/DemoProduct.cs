namespace EdgeProfile.Cli.Demo;

/// <summary>A product of the demo catalogue; <see cref="Category"/> is a '&gt;'-separated path, <see cref="Price"/> in CNY.</summary>
public sealed record DemoProduct(string Sku, string Name, string Category, double Price)
{
    /// <summary>The top-level category ("Baby &amp; Toddler" for "Baby &amp; Toddler &gt; Strollers").</summary>
    public string Department => Category.Split('>', 2)[0].Trim();
}
