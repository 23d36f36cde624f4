using System.Diagnostics;
using System.Security.Cryptography;
using EdgeProfile.Federated.Jobs;
using EdgeProfile.Federated.SecureAggregation;

namespace EdgeProfile.Bench.FlAggregation;

/// <summary>
/// Cost of the server's side of secure aggregation once the masked inputs arrive: adding them up, reconstructing the
/// survivors' self-mask seeds and the dropped clients' masking keys from Shamir shares, expanding and removing those
/// masks (one PRG stream per survivor plus one per survivor–dropped pair) and decoding the sum.
/// </summary>
public static class SecAggUnmaskBench
{
    private const int TimedRuns = 3;

    /// <summary>
    /// Runs a real round of <paramref name="clients"/> clients with <paramref name="parameters"/> parameters each
    /// (threshold: a majority), of which <paramref name="dropFraction"/> drop after sharing keys and before sending
    /// their masked input. The clients' work is prepared once and not timed; the server's work from the first masked
    /// input received to the decoded sum (<see cref="SecAggServer.AddMaskedInput"/> for each survivor,
    /// <see cref="SecAggServer.CloseMaskedInputs"/>, <see cref="SecAggServer.AddUnmaskResponse"/> for each survivor,
    /// <see cref="SecAggServer.ComputeSum"/>) is replayed on a fresh server <see cref="TimedRuns"/> times.
    /// </summary>
    /// <param name="ringBits">The round's ring: 64 (weighted updates) or 32 (clipped updates, as the hub runs DP rounds).</param>
    /// <returns>Median seconds of the timed runs: in all, adding the masked inputs (as they arrive), and the rest
    /// (reconstructing the secrets, removing the masks, decoding). The first run's sum is checked against the plain sum
    /// of the survivors' inputs (throws if it is off by more than the fixed-point rounding).</returns>
    public static (double Total, double Adding, double Unmasking) RunParts(int clients, int parameters, double dropFraction, int seed, int ringBits)
    {
        var threshold = clients / 2 + 1;
        var dropCount = (int)Math.Round(clients * dropFraction);
        if (clients - dropCount < threshold)
        {
            throw new ArgumentException($"{clients - dropCount} survivors of {clients} is below the threshold {threshold}");
        }
        // The 32-bit ring at the scale the hub picks for clipped updates (these inputs are within ±1: clip norm 1).
        var scale = ringBits == 32 ? SecAggWire.ForClippedUpdates(clients, clipNorm: 1.0).Scale : SecAggWire.UpdateScale;
        var config = new SecAggConfig { Threshold = threshold, SessionId = $"bench-{seed}", RingBits = ringBits, Scale = scale };
        var ids = Enumerable.Range(0, clients).Select(i => $"client-{i:D4}").ToArray();
        var dropped = (string[])ids.Clone();
        new Random(seed).Shuffle(dropped);
        var droppedSet = dropped.Take(dropCount).ToHashSet(StringComparer.Ordinal);
        var survivors = ids.Where(id => !droppedSet.Contains(id)).ToArray();

        // Untimed preparation: rounds 0–2 on the clients, and round 3's responses.
        var members = ids.Select((id, i) => new SecAggClient(id, parameters, config, new SeededRng(seed * 100_003 + i)))
            .ToArray();
        try
        {
            var advertisements = members.Select(c => c.AdvertiseKeys()).ToArray();
            var shares = members.Select(c => c.ShareKeys(advertisements)).ToArray();
            var prep = ServerThroughSharing(config, ids, parameters, advertisements, shares, out var routed);
            var masked = new List<SecAggMaskedInput>(survivors.Length);
            foreach (var client in members.Where(c => !droppedSet.Contains(c.ClientId)))
            {
                masked.Add(client.MaskInput(Input(seed, Array.IndexOf(ids, client.ClientId), parameters), routed[client.ClientId]));
            }
            foreach (var input in masked)
            {
                prep.AddMaskedInput(input);
            }
            var request = prep.CloseMaskedInputs();
            var responses = members.Where(c => !droppedSet.Contains(c.ClientId)).Select(c => c.Unmask(request)).ToArray();

            var seconds = new double[TimedRuns];
            var adding = new double[TimedRuns];
            for (var run = 0; run < TimedRuns; run++)
            {
                var server = ServerThroughSharing(config, ids, parameters, advertisements, shares, out _);
                var stopwatch = Stopwatch.StartNew();
                foreach (var input in masked)
                {
                    server.AddMaskedInput(input);
                }
                adding[run] = stopwatch.Elapsed.TotalSeconds;
                server.CloseMaskedInputs();
                foreach (var response in responses)
                {
                    server.AddUnmaskResponse(response);
                }
                var result = server.ComputeSum();
                seconds[run] = stopwatch.Elapsed.TotalSeconds;
                if (run == 0)
                {
                    Check(result, survivors.Select(id => Array.IndexOf(ids, id)).ToArray(), seed, parameters, config.Scale);
                }
            }
            var unmasking = seconds.Zip(adding, (t, a) => t - a).Order().ToArray();
            Array.Sort(seconds);
            Array.Sort(adding);
            return (seconds[TimedRuns / 2], adding[TimedRuns / 2], unmasking[TimedRuns / 2]);
        }
        finally
        {
            foreach (var member in members)
            {
                member.Dispose();
            }
        }
    }

    private static SecAggServer ServerThroughSharing(
        SecAggConfig config, string[] ids, int parameters, SecAggAdvertisement[] advertisements,
        IReadOnlyList<SecAggEncryptedShare>[] shares,
        out IReadOnlyDictionary<string, IReadOnlyList<SecAggEncryptedShare>> routed)
    {
        var server = new SecAggServer(config, ids, parameters);
        foreach (var advertisement in advertisements)
        {
            server.AddAdvertisement(advertisement);
        }
        server.CloseAdvertisements();
        for (var i = 0; i < ids.Length; i++)
        {
            server.AddShares(ids[i], shares[i]);
        }
        routed = server.CloseShares();
        return server;
    }

    /// <summary>A client's (already clipped) update: uniform in [−1, 1], reproducible from the seed and its index.</summary>
    private static float[] Input(int seed, int client, int parameters)
    {
        var random = new Random(seed * 100_003 + client + 1);
        var input = new float[parameters];
        for (var i = 0; i < input.Length; i++)
        {
            input[i] = (float)(random.NextDouble() * 2 - 1);
        }
        return input;
    }

    private static void Check(SecAggResult result, int[] survivors, int seed, int parameters, double scale)
    {
        var plain = new double[parameters];
        foreach (var client in survivors)
        {
            var input = Input(seed, client, parameters);
            for (var i = 0; i < parameters; i++)
            {
                plain[i] += input[i];
            }
        }
        var bound = survivors.Length * 0.5 / scale + 1e-9;
        for (var i = 0; i < parameters; i++)
        {
            if (Math.Abs(result.Sum[i] - plain[i]) > bound)
            {
                throw new InvalidOperationException(
                    $"secure sum differs from the plain sum at {i}: {result.Sum[i]} vs {plain[i]}");
            }
        }
    }

    /// <summary>
    /// Reproducible key material for the bench only (System.Random is not a cryptographic generator): the same seed
    /// gives the same keys, seeds and nonces, so runs are comparable.
    /// </summary>
    private sealed class SeededRng(int seed) : RandomNumberGenerator
    {
        private readonly Random _random = new(seed);

        public override void GetBytes(byte[] data) => _random.NextBytes(data);

        public override void GetBytes(byte[] data, int offset, int count) => _random.NextBytes(data.AsSpan(offset, count));

        public override void GetBytes(Span<byte> data) => _random.NextBytes(data);

        public override void GetNonZeroBytes(byte[] data) => GetNonZeroBytes(data.AsSpan());

        public override void GetNonZeroBytes(Span<byte> data)
        {
            _random.NextBytes(data);
            for (var i = 0; i < data.Length; i++)
            {
                while (data[i] == 0)
                {
                    data[i] = (byte)_random.Next(256);
                }
            }
        }
    }
}
