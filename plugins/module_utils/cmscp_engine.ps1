# configmgr.scp remote engine (Windows PowerShell 5.1 compatible; the only PowerShell of the project).
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Runs one plan (docs/engine-protocol.md): allow-listed cmdlets only, parameters by splatting, never
# any code built from data. Answers with exactly one JSON document between fixed markers. Every text
# and rule here is also stated in plugins/plugin_utils/_protocol.py; tests/static/test_protocol_contract.py
# holds the two together. No secret is ever bound to a cmdlet parameter as text: the payload is
# parsed and SecureStrings are built through .NET (module logging records cmdlet parameters).
# Optional parts are regions named after a feature: only those a payload needs travel
# (_protocol.engine_features; docs/engine-protocol.md section 2).
param([string]$PayloadJson)

$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

# The cmdlets a plan may run: exactly the cmdlet catalog, which holds exactly what the plan builders
# use (tests/static/test_engine_static.py; docs/cmdlet-catalog.md "Adding a cmdlet").
$AllowedCmdlets = @(
    'Add-CMServiceConnectionPoint', 'Get-CMAccount', 'New-CMAccount', 'New-CMSiteSystemServer',
    'Remove-CMAccount', 'Remove-CMServiceConnectionPoint', 'Remove-CMSiteSystemServer', 'Set-CMAccount',
    'Set-CMHierarchySetting', 'Set-CMServiceConnectionPoint', 'Set-CMSiteSystemServer',
    'Add-LocalGroupMember', 'Get-ChildItem', 'Get-CimInstance', 'Get-Content', 'Get-FileHash', 'Get-Item',
    'Get-ItemProperty', 'Get-LocalGroupMember', 'Get-NetFirewallPortFilter', 'Get-NetFirewallRule',
    'Get-Service', 'Import-Certificate', 'Invoke-WebRequest', 'New-Item', 'New-NetFirewallRule', 'Remove-Item',
    'Remove-LocalGroupMember', 'Remove-NetFirewallRule', 'Restart-Computer', 'Restart-Service',
    'Set-ItemProperty', 'Set-NetFirewallRule', 'Start-Process', 'Start-Service', 'Stop-Service', 'Test-Path'
)
$Allowed = [System.Collections.Generic.HashSet[string]]::new([string[]]$AllowedCmdlets, [System.StringComparer]::OrdinalIgnoreCase)

function New-Table { return [System.Collections.Hashtable]::new([System.StringComparer]::OrdinalIgnoreCase) }

function ConvertTo-EngineJson($Value) {
    # A small serializer instead of ConvertTo-Json: 5.1 wraps some arrays as {"value":..,"Count":..}.
    # ASCII only (any code page), and '<' '>' escaped so that no value can contain a result marker.
    if ($null -eq $Value) { return 'null' }
    if ($Value -is [bool]) { if ($Value) { return 'true' } return 'false' }
    if ($Value -is [string] -or $Value -is [char]) {
        $text = [string]$Value
        if ($text -cmatch '^[\x20\x21\x23-\x3b\x3d\x3f-\x5b\x5d-\x7e]*\z') { return '"' + $text + '"' }
        $sb = [System.Text.StringBuilder]::new($text.Length + 16)
        [void]$sb.Append('"')
        foreach ($c in $text.ToCharArray()) {
            $code = [int]$c
            if ($code -eq 0x22) { [void]$sb.Append('\"') }
            elseif ($code -eq 0x5C) { [void]$sb.Append('\\') }
            elseif ($code -lt 0x20 -or $code -gt 0x7E -or $code -eq 0x3C -or $code -eq 0x3E) { [void]$sb.Append(('\u{0:x4}' -f $code)) }
            else { [void]$sb.Append($c) }
        }
        [void]$sb.Append('"')
        return $sb.ToString()
    }
    if ($Value -is [System.Collections.IDictionary]) {
        $items = foreach ($key in $Value.Keys) { (ConvertTo-EngineJson ([string]$key)) + ':' + (ConvertTo-EngineJson $Value[$key]) }
        return '{' + (@($items) -join ',') + '}'
    }
    if ($Value -is [System.Collections.IList]) {
        $items = foreach ($item in $Value) { ConvertTo-EngineJson $item }
        return '[' + (@($items) -join ',') + ']'
    }
    if ($Value -is [double] -or $Value -is [single] -or $Value -is [decimal]) {
        $number = [double]$Value
        $invariant = [System.Globalization.CultureInfo]::InvariantCulture
        # JSON has no NaN or Infinity: they are written as the strings NaN, Infinity, -Infinity.
        if ([double]::IsNaN($number) -or [double]::IsInfinity($number)) { return ConvertTo-EngineJson $number.ToString($invariant) }
        return $number.ToString('R', $invariant)
    }
    if (Test-Integer $Value) {
        return ([System.IFormattable]$Value).ToString($null, [System.Globalization.CultureInfo]::InvariantCulture)
    }
    return ConvertTo-EngineJson (ConvertTo-PlainValue $Value)
}

function Test-Integer($Value) {
    # SByte (5) to UInt64 (12); an enum has its underlying type's code but is not a number.
    return ($Value -isnot [enum] -and [int][System.Type]::GetTypeCode($Value.GetType()) -in 5..12)
}

function ConvertTo-PlainValue($Value) {
    # select = null: the value itself, as data. Objects without a selection become their text.
    if ($null -eq $Value) { return $null }
    if ($Value -is [datetime]) { return $Value.ToString('o', [System.Globalization.CultureInfo]::InvariantCulture) }
    if ($Value -is [enum]) { return $Value.ToString() }
    if ($Value -is [System.Security.SecureString]) { return $null }
    # Numbers and booleans stay data; any other value type (Guid, TimeSpan, a struct) becomes its text.
    if ($Value -is [string] -or $Value -is [bool] -or (Test-Integer $Value) -or $Value -is [double] -or
        $Value -is [single] -or $Value -is [decimal]) { return $Value }
    if ($Value -is [System.Collections.IList]) { return ,(Select-Shape $Value $null) }
    return $Value.ToString()
}

function Select-Shape($Value, $Shape) {
    # Lists are shaped element by element. IList, not IEnumerable: a ConfigMgr IResultObject is
    # enumerable itself and must be read as one object.
    if ($null -eq $Value) { return $null }
    if ($Value -is [System.Collections.IList]) {
        $list = [System.Collections.ArrayList]::new()
        foreach ($item in $Value) { [void]$list.Add((Select-Shape $item $Shape)) }
        return ,$list
    }
    if ($null -eq $Shape) { return ,(ConvertTo-PlainValue $Value) }
    $shaped = [System.Collections.Specialized.OrderedDictionary]::new([System.StringComparer]::OrdinalIgnoreCase)
    foreach ($name in $Shape.Keys) {
        if ($Value -is [System.Collections.IDictionary]) { $inner = $Value[$name] } else { $inner = $Value.$name }
        $shaped[$name] = Select-Shape $inner $Shape[$name]
    }
    return $shaped
}

function Read-Payload([string]$Text) {
    # JavaScriptSerializer (what ConvertFrom-Json uses in 5.1) called directly: no cmdlet parameter
    # ever holds the payload. Objects become Dictionary[string,object] (names compared exactly).
    [void][System.Reflection.Assembly]::LoadWithPartialName('System.Web.Extensions')
    $serializer = [System.Web.Script.Serialization.JavaScriptSerializer]::new()
    $serializer.MaxJsonLength = [int]::MaxValue
    return ,$serializer.DeserializeObject($Text)
}

function Test-StepId($Value) { return ($Value -is [string] -and $Value -cmatch '^[A-Za-z0-9_]+\z') }

#region secrets
# Only for a payload with secrets: a $secret or $credential value, the provider's password.
function Test-CredentialUser($Value) { return ($Value -is [string] -and $Value.Length -gt 0 -and $Value.Length -le 256 -and $Value -cnotmatch '[\x00-\x1f\x7f]') }

function New-SecureText([string]$name, $Secrets) {
    # A SecureString built character by character: the secret is never a cmdlet's parameter.
    $text = $null
    if ($null -ne $Secrets -and $Secrets.ContainsKey($name)) { $text = $Secrets[$name] }
    if ($null -eq $text) { throw "Secret '$name' is not in the payload." }
    if ($text.Length -eq 0) { throw "Secret '$name' is empty." }
    $secure = [System.Security.SecureString]::new()
    foreach ($c in $text.ToCharArray()) { $secure.AppendChar($c) }
    $secure.MakeReadOnly()
    return ,$secure
}
#endregion secrets

function Resolve-PlanValue($Value, $Outputs, $Secrets) {
    # The value forms of the protocol module's value_form: names compared exactly (the payload's
    # objects are ordinal dictionaries), anything else refused, and inside a list only data.
    if ($Value -is [array]) {
        foreach ($item in $Value) { if ($item -is [System.Collections.IDictionary]) { throw 'A value inside a list may only be JSON data.' } }
        return ,$Value
    }
    if ($Value -isnot [System.Collections.IDictionary]) { return $Value }
    $n = $Value.Count
    $ref = $Value['$ref']
    if ($n -eq 1 -and $Value.ContainsKey('$provider') -and @('site_code', 'server', 'namespace') -ccontains $Value['$provider']) {
        $key = $Value['$provider']
        if ($null -eq $script:ProviderInfo) { throw "Provider value '$key' is not available." }
        return $script:ProviderInfo[$key]
    }
    if ((Test-StepId $ref) -and ($n -eq 1 -or ($n -eq 2 -and (Test-StepId $Value['property'])))) {
        if (-not $Outputs.ContainsKey($ref)) { throw "Reference to step '$ref', which has not run." }
        if ($n -eq 1) { return ,$Outputs[$ref] }
        $property = $Value['property']
        return ,$Outputs[$ref].$property
    }
    #region secrets
    if ($n -eq 1 -and (Test-StepId $Value['$secret'])) { return ,(New-SecureText $Value['$secret'] $Secrets) }
    if ($n -eq 2 -and (Test-StepId $Value['$credential']) -and (Test-CredentialUser $Value['username'])) {
        # A PSCredential through .NET: the user name as data, the password a SecureString of the secret.
        return ,[pscredential]::new([string]$Value['username'], (New-SecureText $Value['$credential'] $Secrets))
    }
    #endregion secrets
    # Also a secret form sent to an engine without the secrets region: refused, never passed on as data.
    throw 'A parameter value may only be JSON data, {"$ref": step}, {"$ref": step, "property": name}, {"$provider": name}, {"$secret": name} or {"$credential": secret, "username": name}.'
}

function New-ErrorInfo($Stage, $StepId, $Cmdlet, $ErrorRecord) {
    $info = [ordered]@{ stage = $Stage; step = $StepId; cmdlet = $Cmdlet }
    if ($null -eq $Stage) { $info = [ordered]@{} }
    $info['message'] = $ErrorRecord.Exception.Message
    $info['category'] = $ErrorRecord.CategoryInfo.Category.ToString()
    $info['fqid'] = $ErrorRecord.FullyQualifiedErrorId
    $info['exception'] = $ErrorRecord.Exception.GetType().FullName
    #region web
    # Only for a plan with Invoke-WebRequest, the one allow-listed cmdlet that makes web requests.
    # A web request's failure, whatever the language of its message: the WebExceptionStatus and the
    # HTTP status of the response (docs/engine-protocol.md section 3).
    if ($ErrorRecord.Exception -is [System.Net.WebException]) {
        $info['web_status'] = $ErrorRecord.Exception.Status.ToString()
        if ($ErrorRecord.Exception.Response -is [System.Net.HttpWebResponse]) { $info['http_status'] = [int]$ErrorRecord.Exception.Response.StatusCode }
    }
    #endregion web
    return $info
}

#region provider
# Steps of provider kind cim or cmsite only.
function Test-LocalName([string]$Name) {
    $domain = [System.Net.NetworkInformation.IPGlobalProperties]::GetIPGlobalProperties().DomainName
    return $Name -in @('.', 'localhost', $env:COMPUTERNAME, ($env:COMPUTERNAME + '.' + $domain))
}

function New-ProviderCredential($Provider, $Secrets) {
    return [pscredential]::new([string]$Provider['username'], (New-SecureText ([string]$Provider['password_secret']) $Secrets))
}

function Open-ProviderSession($Provider, $Secrets, [string]$Server) {
    # One CIM session to a provider on another machine per invocation, with the explicit credentials
    # when given (docs/configmgr-behaviour.md#powershell-module-and-remoting: no second hop without them).
    $sessionArgs = @{ ComputerName = $Server; ErrorAction = 'Stop' }
    if ($Provider['username']) { $sessionArgs['Credential'] = New-ProviderCredential $Provider $Secrets }
    $script:CimSession = New-CimSession @sessionArgs
}

function Resolve-Provider($Provider, $Secrets) {
    # Site code, server and namespace of the SMS Provider without the ConfigurationManager module:
    # from the payload, or from root\SMS SMS_ProviderLocation (on the given server, through the session).
    $siteCode = [string]$Provider['site_code']
    $server = [string]$Provider['server']
    if (-not $siteCode -or -not $server) {
        $query = @{ Namespace = 'root\SMS'; ClassName = 'SMS_ProviderLocation'; ErrorAction = 'Stop' }
        if ($server -and -not (Test-LocalName $server)) {
            Open-ProviderSession $Provider $Secrets $server
            $query['CimSession'] = $script:CimSession
        }
        $location = $null
        foreach ($candidate in @(Get-CimInstance @query)) {
            if ($candidate.ProviderForLocalSite -and $null -eq $location) { $location = $candidate }
        }
        if ($null -eq $location) { throw 'No SMS Provider for a local site was found (SMS_ProviderLocation).' }
        if (-not $siteCode) { $siteCode = [string]$location.SiteCode }
        if (-not $server) { $server = [string]$location.Machine }
    }
    $script:ProviderInfo = @{ site_code = $siteCode; server = $server; namespace = 'root\SMS\site_' + $siteCode }
    $script:ProviderRemote = -not (Test-LocalName $server)
}
#endregion provider

#region cmsite
# Steps of provider kind cmsite only.
function Connect-CMSite($Provider, $Secrets) {
    # docs/configmgr-behaviour.md#powershell-module-and-remoting: since 2111 the module is on PSModulePath;
    # older consoles only set SMS_ADMIN_UI_PATH (...\AdminConsole\bin\i386, the module is one folder up).
    if ($Provider['module']) {
        Import-Module -Name ([string]$Provider['module']) -ErrorAction Stop
    } else {
        try {
            Import-Module -Name 'ConfigurationManager' -ErrorAction Stop
        } catch {
            if (-not $env:SMS_ADMIN_UI_PATH) { throw }
            $bin = [System.IO.Path]::GetDirectoryName($env:SMS_ADMIN_UI_PATH)
            Import-Module -Name ([System.IO.Path]::Combine($bin, 'ConfigurationManager.psd1')) -ErrorAction Stop
        }
    }
    if ($null -eq $script:ProviderInfo) { Resolve-Provider $Provider $Secrets }
    $siteCode = $script:ProviderInfo['site_code']
    # Import-Module may already have created the drive (the console's MRU list), and in a PSRP runspace
    # an earlier pipeline of the task did.
    $drive = Get-PSDrive -Name $siteCode -PSProvider 'CMSite' -ErrorAction SilentlyContinue
    if ($null -eq $drive) {
        $driveArgs = @{ Name = $siteCode; PSProvider = 'CMSite'; Root = $script:ProviderInfo['server']; Scope = 'Global'; ErrorAction = 'Stop' }
        if ($Provider['username']) { $driveArgs['Credential'] = New-ProviderCredential $Provider $Secrets }
        [void](New-PSDrive @driveArgs)
    }
    Set-Location -Path ($siteCode + ':\') -ErrorAction Stop
    $script:Drive = $true
}
#endregion cmsite

$script:ProviderInfo = $null
$script:ProviderRemote = $false
$script:CimSession = $null
$script:Drive = $false
$result = [ordered]@{ protocol = 1; ok = $true; steps = [System.Collections.ArrayList]::new(); error = $null }
$startPath = $PWD.Path
try {
    $payload = $null
    $problem = 'The payload is not valid JSON.'
    try { $payload = Read-Payload $PayloadJson; $problem = $null } catch { }
    if ($null -eq $problem -and ($payload -isnot [System.Collections.IDictionary] -or $payload['protocol'] -isnot [int] -or $payload['protocol'] -ne 1)) {
        $problem = 'Unsupported protocol version (this engine speaks protocol 1).'
    }
    if ($null -ne $problem) {
        $result.ok = $false
        $result.error = [ordered]@{ stage = 'payload'; step = $null; cmdlet = $null; message = $problem; category = 'InvalidData'; fqid = 'InvalidPayload'; exception = $null }
        return
    }
    $provider = $payload['provider']
    if ($null -eq $provider) { $provider = @{} }
    $secrets = $payload['secrets']
    $outputs = New-Table
    foreach ($step in $payload['steps']) {
        $cmdlet = $step['cmdlet']
        if (-not $Allowed.Contains($cmdlet)) {
            $result.ok = $false
            $result.error = [ordered]@{ stage = 'payload'; step = $step['id']; cmdlet = $cmdlet; message = "The cmdlet '$cmdlet' is not allowed."; category = 'PermissionDenied'; fqid = 'CmdletNotAllowed'; exception = $null }
            return
        }
        #region provider
        $kind = $step['provider']
        try {
            if ($kind -ceq 'cmsite' -and -not $script:Drive) { Connect-CMSite $provider $secrets }
            elseif ($kind -ceq 'cim') {
                if ($null -eq $script:ProviderInfo) { Resolve-Provider $provider $secrets }
                if ($script:ProviderRemote -and $null -eq $script:CimSession) { Open-ProviderSession $provider $secrets $script:ProviderInfo['server'] }
            }
        } catch {
            $result.ok = $false
            $result.error = New-ErrorInfo 'provider' $step['id'] $cmdlet $_
            return
        }
        #endregion provider
        $record = [ordered]@{ id = $step['id']; ok = $true; output = @(); error = $null }
        try {
            $splat = New-Table
            if ($null -ne $step['params']) {
                foreach ($name in $step['params'].Keys) { $splat[$name] = Resolve-PlanValue $step['params'][$name] $outputs $secrets }
            }
            # The engine's own parameters, which a plan may not set (the catalog refuses them).
            #region provider
            if ($kind -ceq 'cim' -and $null -ne $script:CimSession) { $splat['CimSession'] = $script:CimSession }
            #endregion provider
            $splat['ErrorAction'] = 'Stop'
            $out = @(& $cmdlet @splat)
            if ($out.Count -eq 1) { $outputs[$step['id']] = $out[0] } else { $outputs[$step['id']] = $out }
            $record.output = Select-Shape $out $step['select']
        } catch {
            $record.ok = $false
            $record.error = New-ErrorInfo $null $null $null $_
        }
        [void]$result.steps.Add($record)
        if (-not $record.ok -and $step['on_error'] -cne 'continue') {
            $result.ok = $false
            $result.error = [ordered]@{ stage = 'step'; step = $step['id']; cmdlet = $cmdlet }
            foreach ($key in $record.error.Keys) { $result.error[$key] = $record.error[$key] }
            return
        }
    }
} catch {
    $result.ok = $false
    $result.error = New-ErrorInfo 'engine' $null $null $_
} finally {
    #region provider
    if ($null -ne $script:CimSession) { Remove-CimSession -CimSession $script:CimSession -ErrorAction SilentlyContinue }
    #endregion provider
    if ($startPath) { Set-Location -LiteralPath $startPath -ErrorAction SilentlyContinue }
    try {
        $document = ConvertTo-EngineJson $result
    } catch {
        # Never leave the controller without a document: say what could not be written.
        $document = '{"protocol":1,"ok":false,"steps":[],"error":{"stage":"engine","step":null,"cmdlet":null,"message":' +
            (ConvertTo-EngineJson ('The result could not be written as JSON: ' + $_.Exception.Message)) +
            ',"category":"InvalidResult","fqid":"ResultNotSerializable","exception":null}}'
    }
    '<<<CMSCP-RESULT>>>' + $document + '<<<CMSCP-END>>>'
}
