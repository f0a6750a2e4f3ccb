/**
 * The password policy for self-service sign-up: besides the protocol's length rule, refuse the
 * passwords an attacker tries first (a short embedded list of the most common ones, also with a
 * few digits or symbols tacked on or in other letter case) and very low-entropy ones (runs,
 * repeats, alphabet or keyboard walks, the username itself).
 *
 * Entropy is estimated the cheap way: count the characters a guesser could not predict from the
 * previous ones (a repeat of one of the last three, the next or previous letter or digit, the
 * keyboard neighbour in a row). Fewer than MIN_SURPRISES of them is refused.
 */

// The most common passwords of public breach corpora (lower case, 6+ characters; shorter ones are
// refused by length anyway, and with digits appended they reduce to these).
const COMMON = new Set(
  `123456 1234567 12345678 123456789 1234567890 0123456789 987654321 654321 111111 000000 121212 123123 112233
  666666 696969 777777 888888 999999 555555 222222 333333 444444 11111111 00000000 12341234 123321 147258369
  159753 159357 741852963 789456123 147852 258456 qwerty qwertyui qwertyuiop qwerty123 qwertz asdfgh asdfghjkl
  zxcvbnm zxcvbn 1q2w3e4r 1q2w3e4r5t 1qaz2wsx qazwsx qwaszx azerty password passw0rd p@ssw0rd p@ssword
  password1 password12 password123 pass1234 passwort motdepasse contraseña senha parola wachtwoord salasana
  letmein welcome welcome1 iloveyou iloveu trustno1 sunshine princess football baseball basketball soccer hockey
  dragon monkey master shadow superman batman spiderman pokemon starwars jordan23 michael jennifer jessica
  ashley charlie daniel thomas andrew joshua matthew nicole hannah amanda michelle tigger buster ginger pepper
  maggie bailey cookie chocolate butterfly freedom whatever computer internet secret secret123 changeme
  default administrator admin123 adminadmin root123 guest123 login123 test1234 testtest hello123 helloworld
  abc123 abcd1234 abcdef abcdefg abcdefgh a1b2c3 a1b2c3d4 aa123456 qq123456 mustang ferrari corvette harley
  hunter hunter2 killer summer winter autumn spring flower banana orange cheese purple matrix liverpool chelsea
  arsenal barcelona realmadrid yankees cowboys lakers steelers eagles dolphins loveme lovely loveyou
  fuckyou fuckoff asshole biteme sexy123 1234qwer qwer1234 q1w2e3r4 zaq12wsx 1qazxsw2 zaq1zaq1 samsung apple123
  google linkedin facebook myspace1 youtube twitter baton baton123 conference meeting zoom1234 jitsi teams123
  access access14 mypassword yourpassword nopassword blahblah asdasd asdfasdf qweqwe qweasd qweasdzxc
  1111111 7777777 11223344 12344321 123654 123789 456789 987654 ncc1701 thx1138 trustme 1qaz2wsx3edc
  tinkle 5201314 woaini 888888888 iloveyou1 princess1 monkey1 dragon1 shadow1 master1 sunshine1 football1`
    .split(/\s+/)
    .filter(Boolean),
);

const MIN_SURPRISES = 5;
const KEYBOARD_ROWS = ['`1234567890-=', 'qwertyuiop[]\\', "asdfghjkl;'", 'zxcvbnm,./', 'qwertzuiop', 'azertyuiop', 'qsdfghjklm', 'wxcvbn'];

/** Why this password is refused, in words fit for the sign-up page; null when it is acceptable. */
export function passwordWeakness(password: string, username?: string): string | null {
  const pw = password.normalize('NFC').toLowerCase();
  if (isCommon(pw)) return 'this password is one of the most common passwords; choose another (a few unrelated words make a good one)';
  const name = username?.trim().toLowerCase();
  if (name && name.length >= 3 && pw.includes(name) && surprises(pw.replace(name, '')) < MIN_SURPRISES) {
    return 'this password is too close to your username; choose another';
  }
  if (surprises(pw) < MIN_SURPRISES) {
    return 'this password is too easy to guess (repeated characters, a sequence or a keyboard row); choose another (a few unrelated words make a good one)';
  }
  return null;
}

function isCommon(pw: string): boolean {
  if (COMMON.has(pw)) return true;
  // "Password1!", "qwerty2024", "!!letmein": a common base with a few digits or symbols around it.
  const base = pw.replace(/^[^\p{L}]{1,4}/u, '').replace(/[^\p{L}]{1,6}$/u, '');
  if (base !== pw && base.length >= 4 && COMMON.has(base)) return true;
  // Leetspeak of a common word: p4ssw0rd, l3tm31n.
  const plain = pw.replace(/[0@4]/g, (c) => (c === '0' ? 'o' : 'a')).replace(/3/g, 'e').replace(/[1!]/g, 'i').replace(/\$|5/g, 's');
  return plain !== pw && (COMMON.has(plain) || COMMON.has(plain.replace(/[^\p{L}]+$/u, '')));
}

/** How many characters could not be predicted from the ones before them. */
export function surprises(pw: string): number {
  const chars = [...pw];
  let n = 0;
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    const recent = chars.slice(Math.max(0, i - 3), i);
    const prev = chars[i - 1];
    if (recent.includes(c) || (prev !== undefined && (stepOf(prev, c) || keyboardNeighbours(prev, c)))) continue;
    n += 1;
  }
  return n;
}

function stepOf(a: string, b: string): boolean {
  const d = Math.abs(a.codePointAt(0)! - b.codePointAt(0)!);
  return d === 1 && /[a-z0-9]/.test(a) && /[a-z0-9]/.test(b);
}

function keyboardNeighbours(a: string, b: string): boolean {
  return KEYBOARD_ROWS.some((row) => {
    const i = row.indexOf(a);
    return i >= 0 && (row[i + 1] === b || row[i - 1] === b);
  });
}
