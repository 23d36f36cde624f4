using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;

namespace EdgeProfile.Edge.Tests;

[Collection(EdgeCollection.Name)]
public sealed class PrivacyTests
{
    private const string Email = "a@b.cn";
    private const string Phone = "+8613800000000";
    private const string Card = "tok_secret_9";

    [Fact]
    public async Task Raw_email_and_phone_are_stored_only_in_the_event_payload()
    {
        using var dir = new TempDir();
        await using var edge = await EdgeHost.StartAsync(dir.Path, EdgeHost.WanDown(dir.Path));
        using var client = await edge.ConnectAsync("crm-sync");
        var e = TestEvents.Json("pii-1");
        e["customer"] = new JsonObject { ["email"] = Email, ["phone"] = Phone, ["cardToken"] = Card };
        await EdgeHost.AckedAsync(client, TestEvents.JsonTopic(), e.Bytes());

        Assert.Equal(1, edge.Count("SELECT COUNT(*) FROM events"));
        using var db = edge.OpenDb();
        foreach (var table in new[] { "profiles", "customer_keys", "outbox", "outbox_overflow", "counters" })
        {
            var text = TableText(db, table, skipColumn: null);
            foreach (var raw in new[] { Email, Phone, "13800000000", Card })
            {
                Assert.DoesNotContain(raw, text, StringComparison.OrdinalIgnoreCase);
            }
        }

        // The event log keeps the raw message (it never leaves the edge), but its index columns are pseudonymous.
        var eventColumns = TableText(db, "events", skipColumn: "payload");
        Assert.DoesNotContain(Email, eventColumns, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("13800000000", eventColumns, StringComparison.Ordinal);
        Assert.NotEmpty(TableText(db, "outbox", skipColumn: null));
    }

    [Theory]
    [InlineData("email:a@b.cn")]
    [InlineData("email:A@B.CN")]
    [InlineData("phone:%2B8613800000000")]
    [InlineData("phone:+8613800000000")]
    [InlineData("card:tok_secret_9")]
    public async Task Raw_key_is_accepted_by_the_api_and_hashed(string key)
    {
        using var dir = new TempDir();
        await using var edge = await EdgeHost.StartAsync(dir.Path);
        using var client = await edge.ConnectAsync("crm-sync");
        var e = TestEvents.Json("pii-1", amount: 77);
        e["customer"] = new JsonObject { ["email"] = Email, ["phone"] = Phone, ["cardToken"] = Card };
        await EdgeHost.AckedAsync(client, TestEvents.JsonTopic(), e.Bytes());

        using var response = await edge.GetAsync("/api/profiles/" + key);
        var body = await response.Content.ReadAsStringAsync();

        Assert.True(response.IsSuccessStatusCode, $"{key}: {(int)response.StatusCode} {body}");
        Assert.DoesNotContain(Email, body, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("13800000000", body, StringComparison.Ordinal);
        Assert.DoesNotContain(Card, body, StringComparison.Ordinal);
        var profile = await edge.ProfileAsync(key);
        Assert.Equal(77, EdgeHost.Feature(profile, "spend_30d"));
        var customerKey = profile.GetProperty("customerKey").GetString()!;
        Assert.Matches("^(card|email|phone):[0-9a-f]{32}$", customerKey);
        Assert.Equal(3, profile.GetProperty("identifiers").GetArrayLength());

        // The pseudonym the API answers with finds the same customer.
        var again = await edge.ProfileAsync(customerKey);
        Assert.Equal(customerKey, again.GetProperty("customerKey").GetString());
    }

    [Fact]
    public async Task Unknown_customer_is_404_and_malformed_key_is_400()
    {
        using var dir = new TempDir();
        await using var edge = await EdgeHost.StartAsync(dir.Path);

        using var missing = await edge.GetAsync("/api/profiles/email:nobody@example.com");
        using var malformed = await edge.GetAsync("/api/profiles/nokind");

        Assert.Equal(System.Net.HttpStatusCode.NotFound, missing.StatusCode);
        Assert.DoesNotContain("nobody@example.com", await missing.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, malformed.StatusCode);
    }

    private static string TableText(SqliteConnection db, string table, string? skipColumn)
    {
        using var cmd = db.CreateCommand();
        cmd.CommandText = $"SELECT * FROM {table}";
        using var r = cmd.ExecuteReader();
        var text = new StringBuilder();
        while (r.Read())
        {
            for (var i = 0; i < r.FieldCount; i++)
            {
                if (r.GetName(i) == skipColumn || r.IsDBNull(i))
                {
                    continue;
                }

                text.Append(r.GetValue(i) is byte[] blob ? Encoding.UTF8.GetString(blob) : Convert.ToString(r.GetValue(i), System.Globalization.CultureInfo.InvariantCulture));
                text.Append('|');
            }
        }

        return text.ToString();
    }
}
