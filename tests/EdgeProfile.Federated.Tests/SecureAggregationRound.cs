using EdgeProfile.Federated.SecureAggregation;

namespace EdgeProfile.Federated.Tests;

/// <summary>
/// Drives one secure-aggregation round between real <see cref="SecAggClient"/>s and a real <see cref="SecAggServer"/>
/// in process, as the hub would over gRPC, and keeps every message the server received.
/// </summary>
internal sealed class SecureAggregationRound : IDisposable
{
    public SecureAggregationRound(int clients, int threshold, int parameters, int seed, double scale = 1 << 24, int ringBits = 64)
    {
        Config = new SecAggConfig { Threshold = threshold, Scale = scale, SessionId = $"test-round-{seed}", RingBits = ringBits };
        Ids = Enumerable.Range(0, clients).Select(i => $"store-{i:D2}").ToArray();
        var random = new Random(seed);
        Inputs = Ids.ToDictionary(id => id, _ => Enumerable.Range(0, parameters)
            .Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray());
        Clients = Ids.ToDictionary(id => id, id => new SecAggClient(id, parameters, Config));
        Server = new SecAggServer(Config, Ids, parameters);
    }

    public SecAggConfig Config { get; }

    public string[] Ids { get; }

    public Dictionary<string, float[]> Inputs { get; }

    public Dictionary<string, SecAggClient> Clients { get; }

    public SecAggServer Server { get; }

    /// <summary>Every message handed to the server, in order.</summary>
    public List<object> ServerInbox { get; } = [];

    public IReadOnlyList<SecAggAdvertisement> Roster { get; private set; } = [];

    public IReadOnlyDictionary<string, IReadOnlyList<SecAggEncryptedShare>> Routed { get; private set; } =
        new Dictionary<string, IReadOnlyList<SecAggEncryptedShare>>();

    public Dictionary<string, SecAggMaskedInput> Masked { get; } = [];

    public SecAggUnmaskRequest? Request { get; private set; }

    public Dictionary<string, SecAggUnmaskResponse> Responses { get; } = [];

    public void Advertise(params string[] absent)
    {
        foreach (var id in Ids.Except(absent))
        {
            var advertisement = Clients[id].AdvertiseKeys();
            ServerInbox.Add(advertisement);
            Server.AddAdvertisement(advertisement);
        }
        Roster = Server.CloseAdvertisements();
    }

    public void Share(params string[] absent)
    {
        foreach (var advertisement in Roster.Where(a => !absent.Contains(a.ClientId)))
        {
            var shares = Clients[advertisement.ClientId].ShareKeys(Roster);
            ServerInbox.AddRange(shares);
            Server.AddShares(advertisement.ClientId, shares);
        }
        Routed = Server.CloseShares();
    }

    public void Mask(params string[] absent)
    {
        foreach (var (id, shares) in Routed.Where(r => !absent.Contains(r.Key)))
        {
            var masked = Clients[id].MaskInput(Inputs[id], shares);
            Masked[id] = masked;
            ServerInbox.Add(masked);
            Server.AddMaskedInput(masked);
        }
        Request = Server.CloseMaskedInputs();
    }

    public void Unmask(params string[] absent)
    {
        foreach (var id in Request!.Survivors.Except(absent))
        {
            var response = Clients[id].Unmask(Request);
            Responses[id] = response;
            ServerInbox.Add(response);
            Server.AddUnmaskResponse(response);
        }
    }

    /// <summary>The plain sum of the given clients' inputs, in double precision (the reference).</summary>
    public double[] PlainSum(IEnumerable<string> ids)
    {
        var sum = new double[Inputs[Ids[0]].Length];
        foreach (var id in ids)
        {
            for (var i = 0; i < sum.Length; i++)
            {
                sum[i] += Inputs[id][i];
            }
        }
        return sum;
    }

    public void Dispose()
    {
        foreach (var client in Clients.Values)
        {
            client.Dispose();
        }
    }
}
