using System.CommandLine;
using EdgeProfile.Cli.HubApi;

namespace EdgeProfile.Cli.Commands;

/// <summary><c>enroll create</c>: a one-time enrollment token for a store, CDN node or partner.</summary>
public static class EnrollCommand
{
    /// <summary>Builds <c>enroll</c> with <c>create</c>.</summary>
    public static Command Create()
    {
        var store = new Option<string>("--store")
        {
            Description = "The store id the token is for (1-64 of A-Z a-z 0-9 . _ -), e.g. store-001",
            HelpName = "ID",
            Required = true,
        };
        var kind = new Option<string>("--kind")
        {
            Description = "What enrolls with it",
            DefaultValueFactory = _ => "store",
        };
        kind.AcceptOnlyFromAmong("store", "cdn", "partner");
        var json = new Option<bool>("--json") { Description = "Print the hub's JSON answer instead of text" };
        var hub = new HubConnectionOptions();

        var create = new Command("create", "Create a one-time enrollment token; the token is the last line of the output") { store, kind, json };
        hub.AddTo(create);
        create.SetGuardedAction(async (r, ct) =>
        {
            using var client = hub.CreateClient(r);
            var (enrollment, raw) = await client.CreateEnrollmentAsync(r.GetValue(store)!.Trim(), r.GetValue(kind)!, ct).ConfigureAwait(false);
            if (r.GetValue(json))
            {
                Console.Out.WriteLine(HubRestClient.Indent(raw));
                return ExitCodes.Ok;
            }

            // People read the first lines; scripts take the last one: TOKEN=$(edgeprofile enroll create ... | tail -n1)
            Console.Out.WriteLine($"Enrollment token for {enrollment.Kind} {enrollment.StoreId}, valid until {enrollment.ExpiresAt:u}, usable once:");
            Console.Out.WriteLine($"  start the edge with --Edge:StoreId={enrollment.StoreId} --Edge:HubUrl={client.BaseUrl.AbsoluteUri.TrimEnd('/')} --Edge:EnrollmentToken=<token>");
            Console.Out.WriteLine(enrollment.Token);
            return ExitCodes.Ok;
        });

        return new Command("enroll", "Enrollment of stores, CDN nodes and partners") { create };
    }
}
