using System.Net;
using System.Net.Sockets;
using EdgeProfile.Cli;
using EdgeProfile.Cli.Partner;

namespace EdgeProfile.Synthesis.Tests;

/// <summary>
/// <c>edgeprofile partner join</c> up to the point where it talks to the hub: data and mapping mistakes stop it before
/// the one-time token is used, and the credential it keeps is private to its owner. (Joining rounds against a real hub
/// is tested with the hub.)
/// </summary>
[Collection(ConsoleCapture.Collection)]
public sealed class PartnerJoinTests : IDisposable
{
    private const string Csv = """
        customer,time,sku,qty,price
        c1,2024-02-10 10:00:00,A,2,1.5
        c2,2024-02-25 09:00:00,B,1,5

        """;

    private readonly TempDir dir = new();

    public void Dispose() => dir.Dispose();

    [Theory]
    [InlineData("""{ "customer": "customer", "product": "sku", "amount": "qty" }""", "key 'time' is required")]
    [InlineData("""{ "customer": "customer", "time": "time", "product": "sku", "amount": ["qty", "unit_price"] }""", "mapping key 'amount[1]': column 'unit_price' is not in t.csv")]
    public async Task A_bad_mapping_stops_the_join_before_the_hub_is_contacted(string mapping, string expected)
    {
        using var hub = new TcpListener(IPAddress.Loopback, 0);
        hub.Start();
        var url = $"http://127.0.0.1:{((IPEndPoint)hub.LocalEndpoint).Port}";
        var state = Path.Combine(dir.Path, "state");

        var run = await ConsoleCapture.RunAsync("partner", "join", "--hub", url, "--token", "one-time", "--partner-id", "brand-x",
            "--data", dir.Write("t.csv", Csv), "--mapping", dir.Write("m.json", mapping), "--state", state);

        Assert.Equal(ExitCodes.Usage, run.Code);
        Assert.Contains(expected, run.Error, StringComparison.Ordinal);
        Assert.Single(run.Error.Trim().Split('\n'));
        Assert.False(hub.Pending(), "the hub was contacted although the data could not be read");
        Assert.False(File.Exists(Path.Combine(state, PartnerCredential.FileName)));
    }

    [Fact]
    public async Task The_first_join_needs_a_token_and_an_id()
    {
        var csv = dir.Write("t.csv", Csv);
        var mapping = dir.Write("m.json", """{ "customer": "customer", "time": "time", "product": "sku", "amount": "qty" }""");

        var noId = await ConsoleCapture.RunAsync("partner", "join", "--hub", "http://127.0.0.1:9", "--token", "t", "--data", csv, "--mapping", mapping);
        var noToken = await ConsoleCapture.RunAsync("partner", "join", "--hub", "http://127.0.0.1:9", "--partner-id", "brand-x",
            "--data", csv, "--mapping", mapping, "--state", Path.Combine(dir.Path, "state"));

        Assert.Equal(ExitCodes.Usage, noId.Code);
        Assert.Contains("give --partner-id", noId.Error, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Usage, noToken.Code);
        Assert.Contains("--token is required for the first join (create one with: edgeprofile enroll create --store brand-x --kind partner)", noToken.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_stored_credential_from_another_hub_is_not_used()
    {
        var state = Path.Combine(dir.Path, "state");
        new PartnerCredential("brand-x", "partner", "secret", "http://10.0.0.1:8080/", null).Save(state);

        var run = await ConsoleCapture.RunAsync("partner", "join", "--hub", "http://127.0.0.1:9", "--state", state,
            "--data", dir.Write("t.csv", Csv), "--mapping", dir.Write("m.json", """{ "customer": "customer", "time": "time", "product": "sku", "amount": "qty" }"""));

        Assert.Equal(ExitCodes.Usage, run.Code);
        Assert.Contains("was issued by the hub at http://10.0.0.1:8080/, not http://127.0.0.1:9/", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void The_credential_is_kept_readable_by_its_owner_only_and_read_back()
    {
        var state = Path.Combine(dir.Path, "partner-brand-x");
        var credential = new PartnerCredential("brand-x", "partner", "s3cret", "http://127.0.0.1:8080/", "a2V5");

        var path = credential.Save(state);
        credential.Save(state);

        Assert.Equal(credential, PartnerCredential.Load(state));
        Assert.Null(PartnerCredential.Load(Path.Combine(dir.Path, "elsewhere")));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }

        Assert.DoesNotContain("s3cret", credential.ToString(), StringComparison.Ordinal);
        var headers = credential.Headers();
        Assert.Equal("brand-x", headers.GetValue("x-ep-store"));
        Assert.Equal("Bearer s3cret", headers.GetValue("authorization"));
    }
}
